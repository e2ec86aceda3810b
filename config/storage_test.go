package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const pgURL = "postgres://tsubasa:hunter2@db.internal:5432/tsubasa"

// clusterSecret is a master secret long enough for Validate.
const clusterSecret = "a-master-secret-every-replica-shares-0123456789"

// devLoad loads doc (YAML, may be empty) with environ, in dev mode so
// that only the storage keys decide validity.
func devLoad(t *testing.T, doc string, environ ...string) Config {
	t.Helper()
	c, err := loadYAML(t, doc, append([]string{"TSUBASA_DEV=true", "TSUBASA_SECRET=" + clusterSecret}, environ...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// problemsAt returns the validation messages at path.
func problemsAt(t *testing.T, c Config, path string) []string {
	t.Helper()
	var ve *ValidationError
	if err := c.Validate(); !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, p := range ve.Problems {
		if p.Path == path {
			out = append(out, p.Message)
		}
	}
	return out
}

// PostgreSQL chosen in any layer leaves bolt.path empty unless the
// operator set it too, and then it is an error naming both keys.
func TestStorageBackendIsChosenOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		doc      string
		env      []string
		wantBolt string
		bothSet  bool
	}{
		{"nothing: bbolt at its default", "", nil, defaultDBPath, false},
		{"url in the file", "storage: {postgres: {url: '" + pgURL + "'}}", nil, "", false},
		{"url in the environment", "", []string{"TSUBASA_STORAGE_POSTGRES_URL=" + pgURL}, "", false},
		{"url from a file", "", []string{"TSUBASA_STORAGE_POSTGRES_URL_FILE=" + writeFile(t, "url", pgURL+"\n")}, "", false},
		{"both in the file", "storage: {bolt: {path: /var/lib/t.db}, postgres: {url: '" + pgURL + "'}}", nil, "/var/lib/t.db", true},
		{"path in the file, url in the environment", "storage: {bolt: {path: /var/lib/t.db}}",
			[]string{"TSUBASA_STORAGE_POSTGRES_URL=" + pgURL}, "/var/lib/t.db", true},
		{"path emptied in the environment", "storage: {bolt: {path: /var/lib/t.db}}",
			[]string{"TSUBASA_STORAGE_POSTGRES_URL=" + pgURL, "TSUBASA_STORAGE_BOLT_PATH="}, "", false},
		{"the default path written out", "storage: {bolt: {path: " + defaultDBPath + "}, postgres: {url: '" + pgURL + "'}}", nil, defaultDBPath, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := devLoad(t, tc.doc, tc.env...)
			if c.Storage.Bolt.Path != tc.wantBolt {
				t.Fatalf("storage.bolt.path = %q, want %q", c.Storage.Bolt.Path, tc.wantBolt)
			}
			got := problemsAt(t, c, "storage.postgres.url")
			if tc.bothSet != (len(got) == 1 && strings.Contains(got[0], "storage.bolt.path")) {
				t.Fatalf("problems at storage.postgres.url: %q; both set: %v", got, tc.bothSet)
			}
			if !tc.bothSet {
				if err := c.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
			}
		})
	}
}

// Dev mode's defaults do not give a PostgreSQL configuration a bbolt file.
func TestDevDefaultsKeepPostgres(t *testing.T) {
	c := Config{Storage: StorageConfig{Postgres: PostgresConfig{URL: pgURL}}}
	DevDefaults(&c)
	if c.Storage.Bolt.Path != "" {
		t.Fatalf("storage.bolt.path = %q after DevDefaults", c.Storage.Bolt.Path)
	}
	c = Config{}
	DevDefaults(&c)
	if c.Storage.Bolt.Path != defaultDBPath {
		t.Fatalf("storage.bolt.path = %q, want the default", c.Storage.Bolt.Path)
	}
}

func TestPostgresDefaults(t *testing.T) {
	pg := Default().Storage.Postgres
	want := PostgresConfig{MaxConns: 10, StatementTimeout: 5 * time.Second, SSLMode: SSLModeVerifyFull,
		RevocationDelay: time.Second, AutoMigrate: true}
	if pg != want {
		t.Fatalf("defaults %+v, want %+v", pg, want)
	}
}

// Every bad value is reported at its key, and no message quotes the URL
// (it holds the password).
func TestPostgresValidation(t *testing.T) {
	for _, tc := range []struct {
		name, path, want string
		set              func(*PostgresConfig)
	}{
		{"another scheme", "storage.postgres.url", "postgres://user", func(p *PostgresConfig) { p.URL = "mysql://u:hunter2@db/t" }},
		{"not a URL", "storage.postgres.url", "postgres://user", func(p *PostgresConfig) { p.URL = "host=db password=hunter2" }},
		{"no server", "storage.postgres.url", "name the server", func(p *PostgresConfig) { p.URL = "postgres:///tsubasa?password=hunter2" }},
		{"a mode that falls back", "storage.postgres.url", "unencrypted", func(p *PostgresConfig) { p.URL = pgURL + "?sslmode=prefer" }},
		{"another mode in the URL", "storage.postgres.url", "storage.postgres.sslmode", func(p *PostgresConfig) { p.URL = pgURL + "?sslmode=disable" }},
		{"a CA in the URL", "storage.postgres.url", "storage.postgres.sslrootcert", func(p *PostgresConfig) { p.URL = pgURL + "?sslrootcert=/ca.pem" }},
		{"unknown mode", "storage.postgres.sslmode", "verify-full", func(p *PostgresConfig) { p.SSLMode = "prefer" }},
		{"no connections", "storage.postgres.max_conns", "from 1", func(p *PostgresConfig) { p.MaxConns = 0 }},
		{"no timeout", "storage.postgres.statement_timeout", "positive", func(p *PostgresConfig) { p.StatementTimeout = 0 }},
		{"delay too short", "storage.postgres.revocation_delay", "100ms", func(p *PostgresConfig) { p.RevocationDelay = 10 * time.Millisecond }},
		{"delay too long", "storage.postgres.revocation_delay", "30s", func(p *PostgresConfig) { p.RevocationDelay = time.Minute }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Dev, c.Storage.Bolt.Path, c.Storage.Postgres.URL = true, "", pgURL
			tc.set(&c.Storage.Postgres)
			got := problemsAt(t, c, tc.path)
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Fatalf("problems at %s: %q, want one saying %q", tc.path, got, tc.want)
			}
			if err := c.Validate(); strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("a message quotes the password: %v", err)
			}
		})
	}
	c := Default()
	c.Dev, c.Storage.Bolt.Path, c.Storage.Postgres.URL = true, "", pgURL+"?sslmode=verify-full&host=/run/postgresql"
	c.Secret = clusterSecret
	if err := c.Validate(); err != nil {
		t.Fatalf("a URL agreeing with sslmode: %v", err)
	}
}

// Replicas must share one configured master secret (none is generated on
// PostgreSQL), and there is no admin socket to configure: the CLI opens
// the database itself.
func TestPostgresNeedsASharedSecretAndNoSocket(t *testing.T) {
	c := Default()
	c.Dev, c.Storage.Bolt.Path, c.Storage.Postgres.URL = true, "", pgURL
	c.Admin.Socket = "/run/tsubasa.sock"
	if got := problemsAt(t, c, "secret"); len(got) != 1 || !strings.Contains(got[0], "secret_file") {
		t.Errorf("problems at secret: %q, want one asking for secret_file", got)
	}
	if got := problemsAt(t, c, "admin.socket"); len(got) != 1 || !strings.Contains(got[0], "directly") {
		t.Errorf("problems at admin.socket: %q", got)
	}
	if c.AdminSocket() != "" {
		t.Errorf("AdminSocket() = %q with PostgreSQL, want none", c.AdminSocket())
	}
	c.Secret, c.Admin.Socket = clusterSecret, ""
	if err := c.Validate(); err != nil {
		t.Fatalf("a PostgreSQL config with a secret: %v", err)
	}
	b := Default()
	b.Dev = true
	if err := b.Validate(); err != nil {
		t.Fatalf("bolt without a secret (generated and stored) must stay valid: %v", err)
	}
	if b.AdminSocket() != b.Storage.Bolt.Path+".sock" {
		t.Errorf("bolt's admin socket = %q", b.AdminSocket())
	}
}

// The URL is a secret: redacted in dumps and logs.
func TestPostgresURLIsRedacted(t *testing.T) {
	c := Default()
	c.Storage.Postgres.URL = pgURL
	if got := c.Redacted().Storage.Postgres.URL; got != redactedValue {
		t.Fatalf("Redacted URL = %q", got)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "max_conns=10") {
		t.Fatalf("log line %q: want the storage keys without the password", b.String())
	}
	if c.Storage.Postgres.URL != pgURL {
		t.Fatal("redaction changed the original")
	}
}

// The tests' switch is not a configuration key: the server started by a
// suite under .ci/run must not refuse it.
func TestRequirePostgresIsNotAKey(t *testing.T) {
	if _, err := Load("", []string{"TSUBASA_REQUIRE_POSTGRES=1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", []string{"TSUBASA_REQUIRE_POSTGRESQL=1"}); err == nil {
		t.Fatal("an unknown TSUBASA_ variable was accepted")
	}
}
