package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// countingHandler counts the log records with a given message.
type countingHandler struct {
	msg string
	n   *atomic.Int32
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

func exec(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func latest(t *testing.T, url string) postgres.SchemaStatus {
	t.Helper()
	st, err := postgres.ReadStatus(t.Context(), postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Replicas starting together on an empty database migrate it once: each
// migration is applied by exactly one of them, and all of them open.
func TestConcurrentStartersMigrateOnce(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	var applied atomic.Int32
	log := slog.New(countingHandler{msg: "applying schema migration", n: &applied})
	const starters = 6
	var wg sync.WaitGroup
	errs := make([]error, starters)
	for i := range starters {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), postgres.Options{URL: url, MaxConns: 2, Logger: log})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	st := latest(t, url)
	if int(applied.Load()) != st.Latest {
		t.Fatalf("%d migrations applied by %d starters, want each of the %d once", applied.Load(), starters, st.Latest)
	}
	if st.Current != st.Latest || len(st.Pending) != 0 {
		t.Fatalf("after the start: %s", st)
	}
}

// A database migrated by a newer Tsubasa is refused, with or without
// NoMigrate, and left as it is.
func TestNewerSchemaIsRefused(t *testing.T) {
	url := newDB(t)
	st := latest(t, url)
	exec(t, url, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, 'from_the_future', '\\x00')", st.Latest+1)
	for _, noMigrate := range []bool{false, true} {
		s, err := postgres.Open(t.Context(), postgres.Options{URL: url, NoMigrate: noMigrate})
		if err == nil {
			s.Close()
			t.Fatalf("NoMigrate %v: opened a database of a newer schema", noMigrate)
		}
		if !errors.Is(err, postgres.ErrSchemaTooNew) || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("NoMigrate %v: error %v, want ErrSchemaTooNew saying so", noMigrate, err)
		}
	}
	if _, err := postgres.Migrate(t.Context(), postgres.Options{URL: url}); !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("Migrate: %v, want ErrSchemaTooNew", err)
	}
	if got, err := postgres.ReadStatus(t.Context(), postgres.Options{URL: url}); !errors.Is(err, postgres.ErrSchemaTooNew) || got.Current != st.Latest+1 {
		t.Fatalf("ReadStatus: %s, %v", got, err)
	}
}

// With NoMigrate, Open refuses a database with migrations pending and
// changes nothing; Migrate applies them, reporting what was pending.
func TestNoMigrateRefusesPendingMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	s, err := postgres.Open(t.Context(), postgres.Options{URL: url, NoMigrate: true})
	if err == nil {
		s.Close()
		t.Fatal("opened an empty database without migrating it")
	}
	if !errors.Is(err, postgres.ErrSchemaBehind) || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("error %v, want ErrSchemaBehind telling to migrate", err)
	}
	before := latest(t, url)
	if before.Current != 0 || len(before.Pending) != before.Latest || before.Latest < 1 {
		t.Fatalf("empty database: %s", before)
	}
	st, err := postgres.Migrate(t.Context(), postgres.Options{URL: url})
	if err != nil || len(st.Pending) != before.Latest {
		t.Fatalf("Migrate: %s, %v; want it to report %d pending", st, err, before.Latest)
	}
	if after := latest(t, url); after.Current != after.Latest || len(after.Pending) != 0 {
		t.Fatalf("after Migrate: %s", after)
	}
	openAt(t, url, postgres.Options{NoMigrate: true})
	if st, err := postgres.Migrate(t.Context(), postgres.Options{URL: url}); err != nil || len(st.Pending) != 0 {
		t.Fatalf("second Migrate: %s, %v; want nothing pending", st, err)
	}
}

// A migration applied from other SQL than the code holds (edited after
// release, say) is refused rather than built on.
func TestChangedMigrationIsRefused(t *testing.T) {
	url := newDB(t)
	exec(t, url, "UPDATE schema_migrations SET checksum = '\\x00' WHERE version = 1")
	s, err := postgres.Open(t.Context(), postgres.Options{URL: url})
	if err == nil {
		s.Close()
		t.Fatal("opened a database whose migration 1 differs from the code's")
	}
	if !strings.Contains(err.Error(), "migration 1") {
		t.Fatalf("error %v should name the migration", err)
	}
}

// Bad options fail Open with a message that names the problem and never
// the password.
func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    postgres.Options
		want string
	}{
		{"not a URL", postgres.Options{URL: "host=db password=hunter2"}, "postgres://"},
		{"another scheme", postgres.Options{URL: "mysql://u:hunter2@db/x"}, "postgres://"},
		{"two TLS modes", postgres.Options{URL: "postgres://u:hunter2@db/x?sslmode=require", SSLMode: "verify-full"}, "sslmode=require"},
		{"a mode that falls back", postgres.Options{URL: "postgres://u:hunter2@db/x?sslmode=prefer"}, "unencrypted"},
		{"an unknown mode", postgres.Options{URL: "postgres://u:hunter2@db/x", SSLMode: "strict"}, "strict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), tc.o)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "hunter2") {
				t.Fatalf("error %q: want it to say %q and not the password", msg, tc.want)
			}
		})
	}
}
