package config

import (
	"net/url"
	"time"
)

// TLS modes of storage.postgres.sslmode (libpq's names). allow and prefer
// are not among them: they fall back to plain text without saying so.
const (
	SSLModeDisable    = "disable"
	SSLModeRequire    = "require"
	SSLModeVerifyCA   = "verify-ca"
	SSLModeVerifyFull = "verify-full"
)

// Bounds of storage.postgres.revocation_delay: the listener pings twice
// per delay, so a very short one floods the database with notifications,
// and a long one lets a revoked token work that much longer elsewhere.
const (
	minRevocationDelay = 100 * time.Millisecond
	maxRevocationDelay = 30 * time.Second
)

func (v *checker) storage(s StorageConfig) {
	pg := s.Postgres
	if pg.URL == "" {
		v.nonEmpty("storage.bolt.path", s.Bolt.Path)
	} else {
		if s.Bolt.Path != "" {
			v.add("storage.postgres.url", "storage.bolt.path is set too: choose one backend "+
				"(remove storage.bolt.path, or set TSUBASA_STORAGE_BOLT_PATH to an empty string)")
		}
		v.postgresURL(pg)
	}
	v.oneOf("storage.postgres.sslmode", pg.SSLMode, SSLModeDisable, SSLModeRequire, SSLModeVerifyCA, SSLModeVerifyFull)
	v.between("storage.postgres.max_conns", pg.MaxConns, 1, 1000)
	v.positive("storage.postgres.statement_timeout", pg.StatementTimeout)
	if pg.RevocationDelay < minRevocationDelay || pg.RevocationDelay > maxRevocationDelay {
		v.add("storage.postgres.revocation_delay", "must be from %s to %s", minRevocationDelay, maxRevocationDelay)
	}
}

// postgresURL checks the form of the URL without quoting it: it may hold
// the password.
func (v *checker) postgresURL(pg PostgresConfig) {
	const path = "storage.postgres.url"
	u, err := url.Parse(pg.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		v.add(path, "must be a URL such as postgres://user:password@host:5432/tsubasa (the value is not shown: it may hold a password)")
		return
	}
	q := u.Query()
	if u.Host == "" && q.Get("host") == "" {
		v.add(path, "must name the server: postgres://user:password@host:5432/tsubasa, or ?host=/run/postgresql for a Unix socket")
	}
	switch m := q.Get("sslmode"); m {
	case "", pg.SSLMode:
	case "allow", "prefer":
		v.add(path, "sslmode=%s falls back to an unencrypted connection without saying so: remove it and set storage.postgres.sslmode", m)
	default:
		v.add(path, "says sslmode=%s but storage.postgres.sslmode is %s: remove it from the URL and set storage.postgres.sslmode", m, pg.SSLMode)
	}
	if c := q.Get("sslrootcert"); c != "" && c != pg.SSLRootCert {
		v.add(path, "names an sslrootcert: remove it from the URL and set storage.postgres.sslrootcert")
	}
}
