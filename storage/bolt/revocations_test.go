package bolt

import (
	"path/filepath"
	"testing"
	"time"

	"tsubasa/storage"
)

// A revocation is as durable as any write, and the janitor drops it only
// once RevokeFor has passed.
func TestRevocationsSurviveRestartAndExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tsubasa.db")
	ctx := t.Context()
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	opts := Options{RevokeFor: time.Hour, Now: func() time.Time { return clock }}
	tok := storage.Token{ID: "a1", Kind: storage.AccessToken, ClientID: "c1", MemberID: "m1", SessionID: "s1",
		CreatedAt: clock.Add(-time.Minute), ExpiresAt: clock.Add(14 * time.Minute)}

	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteTokens(ctx, storage.TokenFilter{MemberID: "m1", SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if revoked, _ := s.TokenRevoked(ctx, tok); !revoked {
		t.Fatal("revocation lost across a restart")
	}
	if n, err := s.DeleteExpired(ctx, clock.Add(59*time.Minute)); err != nil || n != 0 {
		t.Fatalf("janitor before RevokeFor: %d, %v", n, err)
	}
	if revoked, _ := s.TokenRevoked(ctx, tok); !revoked {
		t.Fatal("revocation dropped before RevokeFor")
	}
	if n, err := s.DeleteExpired(ctx, clock.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("janitor after RevokeFor: %d, %v; want 1", n, err)
	}
	if revoked, _ := s.TokenRevoked(ctx, tok); revoked {
		t.Fatal("expired revocation still applied")
	}
}

// The janitor forgetting an old revocation keeps a newer one of the same
// filter made meanwhile.
func TestRevocationForgetKeepsANewerOne(t *testing.T) {
	r := newRevocations(time.Hour)
	f := storage.TokenFilter{FamilyID: "f1"}
	key := revocationKey(shapeOf(f), filterFields(f))
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r.remember(key, t0)
	r.remember(key, t0.Add(time.Hour))
	r.forget(key, t0)
	tok := storage.Token{ID: "a", FamilyID: "f1", CreatedAt: t0.Add(time.Minute)}
	if !r.revoked(&tok) {
		t.Fatal("the newer revocation was forgotten with the old one")
	}
	r.forget(key, t0.Add(time.Hour))
	if r.revoked(&tok) || len(r.shapes) != 0 {
		t.Fatalf("revocation not forgotten: %v %v", r.at, r.shapes)
	}
}
