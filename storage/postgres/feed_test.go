package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

const bound = 400 * time.Millisecond // the RevocationDelay these tests configure

// within polls cond until it holds or the configured bound has passed
// since from, and then fails unless it holds: the bound is the contract,
// and the store must keep it however slowly the test runs, since past the
// bound an unfresh store answers from the database.
func within(t *testing.T, from time.Time, what string, cond func() bool) {
	t.Helper()
	for time.Since(from) < bound {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !cond() {
		t.Fatalf("%s: not within the configured bound of %v", what, bound)
	}
}

// eventually polls cond for up to a generous time: for what has no bound
// of its own (a listener reconnecting), only that it happens.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: never happened", what)
}

func accessToken() storage.Token {
	return storage.Token{ID: "at-1", Kind: storage.AccessToken, ClientID: "web", MemberID: "m1", SessionID: "s1",
		CreatedAt: time.Now().Add(-time.Minute), ExpiresAt: time.Now().Add(time.Hour)}
}

func revoked(t *testing.T, s *postgres.Store, tok storage.Token) bool {
	t.Helper()
	r, err := s.TokenRevoked(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A revocation made on one replica is enforced by another within the
// configured bound, and reaches its memory by notification (not only by
// the fallback to the database).
func TestRevocationReachesTheOtherReplicaWithinTheBound(t *testing.T) {
	a, b := twoReplicas(t, postgres.Options{RevocationDelay: bound})
	tok := accessToken()
	eventually(t, "b fresh", b.Fresh)
	if revoked(t, b, tok) {
		t.Fatal("revoked before any revocation")
	}
	if _, err := a.DeleteTokens(t.Context(), storage.TokenFilter{SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	within(t, done, "b enforces a's revocation", func() bool { return revoked(t, b, tok) })
	within(t, done, "b's memory holds a's revocation", func() bool { return b.Remembers(tok) })
	later := tok
	later.CreatedAt = time.Now().Add(time.Hour)
	if revoked(t, b, later) {
		t.Fatal("a token issued after the revocation is refused")
	}
}

// A member changed on one replica is not served stale from another's cache
// beyond the bound.
func TestMemberChangeReachesTheOtherReplicaWithinTheBound(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{RevocationDelay: bound})
	m := storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive, CreatedAt: t0}
	if err := a.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b fresh", b.Fresh)
	if _, err := b.MemberByID(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if !b.Cached(m.ID) {
		t.Fatal("MemberByID did not fill the cache of a fresh store")
	}
	if err := a.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
		m.Status = storage.MemberDisabled
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	within(t, done, "b sees the member disabled", func() bool {
		got, err := b.MemberByID(ctx, m.ID)
		return err == nil && got.Status == storage.MemberDisabled
	})
}

// A replica whose listener loses its connection keeps the bound (it asks
// the database while it cannot show it is fresh), reconnects, and reads
// again what it may have missed.
func TestLostListenerKeepsTheBoundAndRecovers(t *testing.T) {
	ctx := t.Context()
	url := newDB(t)
	o := postgres.Options{RevocationDelay: bound}
	a, b := openAt(t, url, o), openAt(t, url, o)
	tok := accessToken()
	eventually(t, "b fresh", b.Fresh)

	// End b's listener from the server side, as a failover or a network
	// cut would, and revoke while it is gone.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ended int
	if err := conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
		b.ListenerName()).Scan(&ended); err != nil || ended != 1 {
		t.Fatalf("terminated %d listeners, %v; want b's one", ended, err)
	}
	if _, err := a.DeleteTokens(ctx, storage.TokenFilter{MemberID: "m1"}); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	within(t, done, "b enforces the revocation made while its listener was down", func() bool { return revoked(t, b, tok) })
	eventually(t, "b's listener back and fresh", func() bool { return b.Fresh() && b.Remembers(tok) })
}

// A replica whose listener hangs (no notification, no ping) answers from
// the database once its freshness is older than the bound: neither a
// revocation nor a member change goes unseen beyond it.
func TestHungListenerKeepsTheBound(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{RevocationDelay: bound})
	m := storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive, CreatedAt: t0}
	if err := a.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b fresh", b.Fresh)
	if _, err := b.MemberByID(ctx, m.ID); err != nil || !b.Cached(m.ID) {
		t.Fatalf("member not cached: %v", err)
	}
	b.StopFeed()
	if err := a.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
		m.Status = storage.MemberDisabled
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	tok := accessToken()
	if _, err := a.DeleteTokens(ctx, storage.TokenFilter{MemberID: "m1"}); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	within(t, done, "b enforces the revocation", func() bool { return revoked(t, b, tok) })
	within(t, done, "b sees the member disabled", func() bool {
		got, err := b.MemberByID(ctx, m.ID)
		return err == nil && got.Status == storage.MemberDisabled
	})
	if b.Remembers(tok) || b.Fresh() {
		t.Fatal("a stopped listener delivered the revocation: this test no longer checks the fallback")
	}
}
