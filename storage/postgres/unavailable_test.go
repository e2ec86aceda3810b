package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// A database that refuses connections and ended the open ones (a restart,
// a failover) makes reads and writes fail with errors storage.Unavailable
// recognises, so that callers answer "try again" rather than "not found"
// or a bare server error; once it takes connections again the same store
// works without being reopened.
func TestDatabaseAwayIsUnavailable(t *testing.T) {
	dbURL := newDB(t)
	s := openAt(t, dbURL, postgres.Options{})
	ctx := t.Context()
	if err := s.CreateMember(ctx, storage.Member{ID: "m1", Number: "1000001", Locale: "ja"}); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()
	admin, err := pgx.Connect(ctx, pgtest.Get(t).URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "ALTER DATABASE "+name+" WITH ALLOW_CONNECTIONS true")
		admin.Close(context.Background())
	})
	exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + strings.TrimPrefix(u.Path, "/") + "' AND pid <> pg_backend_pid()")

	ops := map[string]func(context.Context) error{
		"read": func(ctx context.Context) error { _, err := s.MemberByNumber(ctx, "1000001"); return err },
		"write": func(ctx context.Context) error {
			return s.CreateMember(ctx, storage.Member{ID: "m2", Number: "1000002", Locale: "ja"})
		},
		"token": func(ctx context.Context) error { _, err := s.TokenByID(ctx, "t1"); return err },
	}
	for what, op := range ops {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := op(ctx)
		cancel()
		if err == nil || !storage.Unavailable(err) || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s with the database away: %v; want an error storage.Unavailable recognises", what, err)
		}
	}

	exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true")
	if m, err := s.MemberByNumber(ctx, "1000001"); err != nil || m.ID != "m1" {
		t.Errorf("read once the database is back: %+v, %v", m, err)
	}
}
