package config

import (
	"slices"
	"strconv"
	"time"
)

// adminAPI checks admin.api.
func (v *checker) adminAPI(a AdminAPIConfig) {
	v.between("admin.api.rate_limit", a.RateLimit, 1, 1_000_000)
	v.between("admin.api.burst", a.Burst, 1, 1_000_000)
	// The server refuses any body over 1 MiB before a handler reads it.
	v.between("admin.api.max_body_bytes", a.MaxBodyBytes, 1024, 1<<20)
	if a.MaxImportBytes < 1<<20 {
		v.add("admin.api.max_import_bytes", "must be at least 1048576 (1 MiB)")
	}
	// A client's retry must find the first answer however late it comes:
	// at least an hour.
	if a.IdempotencyTTL < time.Hour {
		v.add("admin.api.idempotency_ttl", "must be at least 1h")
	}
	if a.JobTTL < time.Hour {
		v.add("admin.api.job_ttl", "must be at least 1h")
	}
}

// adminScope refuses an admin scope on a client that can act for a
// member: a member's login must never carry one. Only a confidential
// client using client_credentials for itself may have it.
func (v *checker) adminScope(p string, j int, s string, cl ClientConfig) {
	path := p + ".scopes[" + strconv.Itoa(j) + "]"
	switch {
	case cl.Public:
		v.add(path, "%s is only for a confidential client_credentials client (a system calling the admin API); a public client cannot have it", s)
	case slices.Contains(cl.GrantTypes, GrantAuthorizationCode) || slices.Contains(cl.GrantTypes, GrantRefreshToken):
		v.add(path, "%s is only for a client_credentials client (a system calling the admin API): remove authorization_code and refresh_token from grant_types, or %s from scopes", s, s)
	}
}
