package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// outputHas fails unless out has every one of want, showing out.
func outputHas(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// TestPostgresSchemaCommands: `db status` and `db migrate` report and
// apply the schema's migrations; with storage.postgres.auto_migrate false
// a replica refuses a database with migrations pending and says to run
// `tsubasa db migrate`, and starts once it ran; the CLI's admin commands
// never migrate; on bbolt the commands say there is nothing to migrate.
func TestPostgresSchemaCommands(t *testing.T) {
	db := PostgresURL(t)
	noAuto := Options{Postgres: db, Env: []string{"TSUBASA_STORAGE_POSTGRES_AUTO_MIGRATE=false"}}
	cfg := Configure(t, noAuto)
	outputHas(t, "db status of an empty database", cfg.CLI(t, false, "db", "status"), "Schema version 0 of", "pending: 0001_initial")
	outputHas(t, "member show on an empty database", cfg.CLI(t, true, "member", "show", MemberNumber), "tsubasa db migrate")
	refused := ServeFails(t, noAuto)
	outputHas(t, "serve with migrations pending and auto_migrate false", refused, "tsubasa db migrate", "auto_migrate is false")

	outputHas(t, "db migrate", cfg.CLI(t, false, "db", "migrate"), appliedAll(t), "Up to date")
	outputHas(t, "db status after migrate", cfg.CLI(t, false, "db", "status"), "Up to date")
	outputHas(t, "db migrate again", cfg.CLI(t, false, "db", "migrate"), "Nothing to apply")
	noAuto.Dir, noAuto.Port = cfg.Dir, cfg.portNumber(t)
	Start(t, noAuto)

	bolt := Configure(t, Options{})
	outputHas(t, "db status on bbolt", bolt.CLI(t, false, "db", "status"), "needs no migration")
}

// TestMasterSecretCheck: the database keeps a check value of the master
// secret. A PostgreSQL replica or CLI given another secret than the
// database was initialised with refuses to start, and the message never
// shows either secret; PostgreSQL without any secret is refused at
// config validation.
func TestMasterSecretCheck(t *testing.T) {
	db := PostgresURL(t)
	first := Start(t, Options{Postgres: db})
	first.Stop(t)
	other := filepath.Join(t.TempDir(), "other.secret")
	const otherSecret = "another-master-secret-nobody-initialised-this-with-0123"
	if err := os.WriteFile(other, []byte(otherSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := Options{Postgres: db, SecretFile: other}
	out := ServeFails(t, wrong)
	outputHas(t, "serve with another secret", out, "not the one this database was initialised with", "secret_file")
	cli := Configure(t, wrong).CLI(t, true, "member", "show", MemberNumber)
	outputHas(t, "the CLI with another secret", cli, "not the one this database was initialised with")
	for _, leaked := range []string{otherSecret, PostgresSecret} {
		if strings.Contains(out+cli, leaked) {
			t.Errorf("a refusal shows a master secret")
		}
	}
	none := ServeFails(t, Options{Postgres: db, Env: []string{"TSUBASA_SECRET_FILE="}})
	outputHas(t, "serve on PostgreSQL without a secret", none, "secret: is required with storage.postgres.url")
}

// TestMasterSecretCheckOnBolt: on bbolt the generated master secret keeps
// working across restarts, and a secret configured later than the
// generated one is refused as on PostgreSQL, without showing it.
func TestMasterSecretCheckOnBolt(t *testing.T) {
	s := Start(t, Options{}) // secret generated and stored
	s.Stop(t)
	Start(t, Options{Dir: s.Dir, Port: s.portNumber(t)}).Stop(t)
	other := filepath.Join(t.TempDir(), "other.secret")
	const otherSecret = "a-secret-configured-after-the-generated-one-0123456789"
	if err := os.WriteFile(other, []byte(otherSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	out := ServeFails(t, Options{Dir: s.Dir, Port: s.portNumber(t), SecretFile: other})
	outputHas(t, "bbolt serve with a secret other than the generated one", out, "not the one this database was initialised with")
	if strings.Contains(out, otherSecret) {
		t.Error("the refusal shows the configured secret")
	}
}

// TestPostgresBackupIsRefused: backup and restore do not pretend to copy
// PostgreSQL; they exit non-zero naming pg_dump and point-in-time
// recovery, and touch nothing.
func TestPostgresBackupIsRefused(t *testing.T) {
	s := Configure(t, Options{Postgres: PostgresURL(t)})
	out := filepath.Join(t.TempDir(), "backup.db")
	for _, args := range [][]string{{"backup", "--out", out}, {"restore", "--from", out}} {
		outputHas(t, args[0], s.CLI(t, true, args...), "pg_dump", "PITR", "pg_basebackup")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("backup wrote %s: %v", out, err)
	}
}

// TestReadyzFollowsPostgres: /readyz answers 503 while the database
// refuses connections (its connections ended, new ones refused), and 200
// again once it accepts them, without a restart; a login then works (the
// pool and the notification listener reconnected by themselves).
func TestReadyzFollowsPostgres(t *testing.T) {
	db := PostgresURL(t)
	s := StartWithMember(t, Options{Postgres: db})
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	allow := func(on bool) {
		t.Helper()
		sql := "ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " WITH ALLOW_CONNECTIONS " + map[bool]string{true: "true", false: "false"}[on]
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
		if !on {
			if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		// A failed case leaves the database open again for pgtest's drop.
		_, _ = admin.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH ALLOW_CONNECTIONS true")
		admin.Close(context.Background())
	})

	allow(false)
	waitReadyz(t, s, http.StatusServiceUnavailable)
	allow(true)
	waitReadyz(t, s, http.StatusOK)
	RequireServing(t, s)
}

// waitReadyz polls /readyz (bounded) until it answers want.
func waitReadyz(t *testing.T, s *Server, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := 0
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+"/readyz", nil)
		if code, err := RawStatus(req); err == nil {
			if last = code; code == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz answered %d for 30s, want %d", last, want)
}

// appliedAll is what `db migrate` says after applying every migration in
// storage/postgres/migrations to an empty database: "Applied N
// migration(s): " and their names in order.
func appliedAll(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "storage", "postgres", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the migrations: %v (%d files)", err, len(files))
	}
	names := make([]string, len(files))
	for i, f := range files { // Glob sorts them
		names[i] = strings.TrimSuffix(filepath.Base(f), ".sql")
	}
	return fmt.Sprintf("Applied %d migration(s): %s", len(names), strings.Join(names, ", "))
}
