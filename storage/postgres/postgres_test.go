package postgres_test

import (
	"context"
	"testing"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
	"tsubasa/storage/storagetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migrated returns the name of a template database holding the current
// schema, built once per test binary.
func migrated(t testing.TB) string {
	t.Helper()
	return pgtest.Template(t, "tsubasa_migrated", func(url string) error {
		_, err := postgres.Migrate(context.Background(), postgres.Options{URL: url})
		return err
	})
}

// newDB returns the URL of a fresh database with the current schema.
func newDB(t testing.TB) string {
	t.Helper()
	return pgtest.NewDatabase(t, migrated(t))
}

// openAt opens a store on url with o, closed when the test ends.
func openAt(t testing.TB, url string, o postgres.Options) *postgres.Store {
	t.Helper()
	o.URL = url
	if o.MaxConns == 0 {
		o.MaxConns = 4 // the races queue on a small pool, as in production
	}
	s, err := postgres.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openAt(t, newDB(t), postgres.Options{}) })
}
