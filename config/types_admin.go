package config

import (
	"strings"
	"time"
)

// AdminAPIConfig is the HTTP admin API (/admin/v1/ on the public
// listener), for the programme's own systems and the CLI's --server mode.
// It takes only access tokens this server issued by client_credentials to
// clients allowed admin scopes (AdminScopes).
type AdminAPIConfig struct {
	// Enabled serves the API. Without a client allowed an admin scope
	// nobody can call it.
	Enabled bool `yaml:"enabled"`
	// RateLimit is how many requests per second one client may make on
	// average, Burst how many at once beyond that; every replica counts
	// against the same budget.
	RateLimit int `yaml:"rate_limit"`
	Burst     int `yaml:"burst"`
	// MaxBodyBytes bounds a JSON request body.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// MaxImportBytes bounds the stream of a member import.
	MaxImportBytes int64 `yaml:"max_import_bytes"`
	// IdempotencyTTL is how long the answer to a request with an
	// Idempotency-Key is kept, and a retry gets it.
	IdempotencyTTL time.Duration `yaml:"idempotency_ttl"`
	// JobTTL is how long a finished job (a member import) and its report
	// stay readable.
	JobTTL time.Duration `yaml:"job_ttl"`
}

// The admin scopes: what a client of the HTTP admin API may be allowed.
const (
	ScopeAdminMembersRead    = "admin:members:read"
	ScopeAdminMembersWrite   = "admin:members:write"
	ScopeAdminMembersSupport = "admin:members:support"
	ScopeAdminClients        = "admin:clients"
	ScopeAdminKeys           = "admin:keys"
	ScopeAdminEventsRead     = "admin:events:read"
	ScopeAdminWebhooks       = "admin:webhooks"
)

// AdminScopes lists every admin scope.
func AdminScopes() []string {
	return []string{ScopeAdminMembersRead, ScopeAdminMembersWrite, ScopeAdminMembersSupport,
		ScopeAdminClients, ScopeAdminKeys, ScopeAdminEventsRead, ScopeAdminWebhooks}
}

// isAdminScope reports a scope of the admin API's family, known or not.
func isAdminScope(s string) bool { return strings.HasPrefix(s, "admin:") }
