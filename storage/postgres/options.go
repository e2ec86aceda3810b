package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune Open, Migrate and ReadStatus. URL is required; the zero
// value of every other field is a default.
type Options struct {
	// URL is the database, postgres://user:password@host:port/db?…; the
	// host may be a Unix socket directory (?host=/run/postgresql).
	URL string
	// MaxConns is the size of the connection pool; default 10. The
	// notification listener holds one more connection of its own.
	MaxConns int32
	// StatementTimeout bounds every statement on the pool's connections
	// (PostgreSQL's statement_timeout); default 5s. Migrations run without
	// it.
	StatementTimeout time.Duration
	// SSLMode is disable, require, verify-ca or verify-full ("" keeps what
	// URL says, or libpq's default). A URL that names another mode is an
	// error rather than silently overridden. allow and prefer are refused:
	// they fall back to plain text without saying so.
	SSLMode string
	// SSLRootCert is the file of CA certificates the server's certificate
	// must chain to for verify-ca and verify-full; "" = the system's roots.
	SSLRootCert string
	// RevocationDelay bounds how long a revocation or a member change made
	// by another process may go unseen here (see "Several processes" in
	// the package documentation); default 1s.
	RevocationDelay time.Duration
	// RevokeFor is how long DeleteTokens remembers what it revoked for
	// tokens that are not stored: at least the longest access-token
	// lifetime; default 24h.
	RevokeFor time.Duration
	// Now is the clock revocations are stamped with, to compare with the
	// CreatedAt the provider gives tokens; default time.Now.
	Now func() time.Time
	// Logger receives start-up, listener and janitor messages; default:
	// discard.
	Logger *slog.Logger
	// NoMigrate makes Open refuse a database with migrations pending
	// instead of applying them, for operators who migrate before a rollout
	// (Migrate). A database newer than this code is refused either way.
	NoMigrate bool
}

// Defaults of Options.
const (
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 5 * time.Second
	DefaultRevocationDelay  = time.Second
	DefaultRevokeFor        = 24 * time.Hour
)

// SSLModes are the values SSLMode accepts.
var SSLModes = []string{"disable", "require", "verify-ca", "verify-full"}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.RevocationDelay <= 0 {
		o.RevocationDelay = DefaultRevocationDelay
	}
	if o.RevokeFor <= 0 {
		o.RevokeFor = DefaultRevokeFor
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// errURL is what a bad URL gets: the URL itself is not quoted, since it
// may hold a password.
var errURL = errors.New("postgres: the URL must be postgres://user:password@host:port/database (optionally with ?parameters)")

// poolConfig builds the pool's configuration from o (with defaults).
func poolConfig(o Options) (*pgxpool.Config, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errURL
	}
	q := u.Query()
	if o.SSLMode != "" {
		if !slices.Contains(SSLModes, o.SSLMode) {
			return nil, fmt.Errorf("postgres: sslmode %q: want one of %v", o.SSLMode, SSLModes)
		}
		if got := q.Get("sslmode"); got != "" && got != o.SSLMode {
			return nil, fmt.Errorf("postgres: the URL says sslmode=%s but the TLS mode is set to %s: set it in one place", got, o.SSLMode)
		}
		q.Set("sslmode", o.SSLMode)
	}
	if m := q.Get("sslmode"); m == "allow" || m == "prefer" {
		return nil, fmt.Errorf("postgres: sslmode=%s falls back to an unencrypted connection without saying so: use %v", m, SSLModes)
	}
	if o.SSLRootCert != "" {
		if got := q.Get("sslrootcert"); got != "" && got != o.SSLRootCert {
			return nil, errors.New("postgres: the URL names another sslrootcert than the one configured: set it in one place")
		}
		q.Set("sslrootcert", o.SSLRootCert)
	}
	u.RawQuery = q.Encode()
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		// pgx redacts the password from the connection string it quotes.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = o.MaxConns
	rp := cfg.ConnConfig.RuntimeParams
	rp["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	if rp["application_name"] == "" {
		rp["application_name"] = "tsubasa"
	}
	return cfg, nil
}
