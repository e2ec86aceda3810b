package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	storagetest.Run(t, func(t *testing.T) storage.Store { return dumpable{openAt(t, newDB(t), postgres.Options{})} })
}

// dumpable gives the store the Dump the erasure scan needs
// (storagetest.Dumper), outside the production type.
type dumpable struct{ *postgres.Store }

func (d dumpable) Dump(ctx context.Context, fn func(where string, data []byte)) error {
	return postgres.Dump(d.Store, ctx, fn)
}

// Values PostgreSQL text cannot hold (NUL, invalid UTF-8) are stored in
// records as JSON stores them, and a lookup by such a key finds nothing
// instead of failing: a request's client_id or a typed member number may
// be anything.
func TestTextPostgreSQLCannotHold(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, newDB(t), postgres.Options{})
	m := storage.Member{ID: "m1", Number: "1000001", FamilyName: "a\x00b", GivenName: "\u3042", Locale: "ja"}
	if err := s.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.MemberByID(ctx, "m1")
	if err != nil || got.FamilyName != "a\x00b" || got.GivenName != m.GivenName {
		t.Fatalf("member with a NUL in its name: %+v, %v", got, err)
	}
	for name, lookup := range map[string]func(string) error{
		"MemberByID":     func(k string) error { _, err := s.MemberByID(ctx, k); return err },
		"MemberByNumber": func(k string) error { _, err := s.MemberByNumber(ctx, k); return err },
		"ClientByID":     func(k string) error { _, err := s.ClientByID(ctx, k); return err },
		"TokenByID":      func(k string) error { _, err := s.TokenByID(ctx, k); return err },
		"SessionByID":    func(k string) error { _, err := s.SessionByID(ctx, k); return err },
		"AuthRequest":    func(k string) error { _, err := s.AuthRequestByID(ctx, k); return err },
		"ClaimAuthCode":  func(k string) error { _, _, err := s.ClaimAuthCode(ctx, k, time.Now()); return err },
		"Rotate":         func(k string) error { _, err := s.RotateRefreshToken(ctx, k, time.Now()); return err },
		"CurrentOTP":     func(k string) error { _, err := s.CurrentOTP(ctx, k, "login"); return err },
		"DeviceByID":     func(k string) error { _, err := s.DeviceByID(ctx, "m1", k); return err },
	} {
		for _, key := range []string{"x\x00y", "\xff\xfe"} {
			if err := lookup(key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s(%q): %v, want ErrNotFound", name, key, err)
			}
		}
	}
	// A contact with a NUL is kept in the record, and out of the contact
	// columns: the lookup by it finds nothing, and fails no other.
	nul := storage.Member{ID: "m2", Number: "1000002", Email: "x\x00y@example.jp", Phone: "+8190\x001", Locale: "ja"}
	if err := s.CreateMember(ctx, nul); err != nil {
		t.Fatal(err)
	}
	if got, err := s.MemberByID(ctx, "m2"); err != nil || got.Email != nul.Email || got.Phone != nul.Phone {
		t.Fatalf("member with a NUL in their contacts: %+v, %v", got, err)
	}
	for name, lookup := range map[string]func(string) ([]storage.Member, error){
		"MembersByEmail": func(k string) ([]storage.Member, error) { return s.MembersByEmail(ctx, k, 10) },
		"MembersByPhone": func(k string) ([]storage.Member, error) { return s.MembersByPhone(ctx, k, 10) },
	} {
		for _, key := range []string{"x\x00y@example.jp", "+8190\x001", "\xff\xfe"} {
			if ms, err := lookup(key); err != nil || len(ms) != 0 {
				t.Errorf("%s(%q): %d members, %v; want none and no error", name, key, len(ms), err)
			}
		}
	}
	if ts, err := s.ListTokens(ctx, storage.TokenFilter{MemberID: "\xff"}); err != nil || len(ts) != 0 {
		t.Errorf("ListTokens by an unstorable member: %v, %v", ts, err)
	}
	// Revoking by such a value is still recorded.
	if _, err := s.DeleteTokens(ctx, storage.TokenFilter{SessionID: "s\x00"}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.TokenRevoked(ctx, storage.Token{ID: "a", SessionID: "s\x00", CreatedAt: time.Now().Add(-time.Minute)}); err != nil || !r {
		t.Errorf("TokenRevoked after revoking an unstorable session: %v, %v", r, err)
	}
}
