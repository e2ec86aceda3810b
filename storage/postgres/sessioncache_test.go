package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// cachedSession is b's SessionByIDCached of id: the session, or whether it
// is gone.
func cachedSession(t *testing.T, s *postgres.Store, id string) (storage.Session, bool) {
	t.Helper()
	got, err := s.SessionByIDCached(t.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Session{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return got, true
}

// readIntoCache reads id on s until its session cache holds it: a store
// fills its cache only while fresh, which a loaded machine may interrupt.
func readIntoCache(t *testing.T, s *postgres.Store, id string) {
	t.Helper()
	eventually(t, id+" read into the cache", func() bool {
		_, ok := cachedSession(t, s, id)
		return ok && s.SessionCached(id)
	})
}

func sessionOf(id, member, device string) storage.Session {
	return storage.Session{ID: id, MemberID: member, DeviceID: device, AuthTime: t0, ACR: "pwd", AMR: []string{"pwd"},
		Data: map[string]string{"step": "1"}, Clients: []string{"web"}, CreatedAt: t0, LastSeenAt: t0,
		ExpiresAt: time.Now().Add(time.Hour).UTC()}
}

// A session ended on one replica, however it ends (one logout, a device's
// or every session of a member, a credential change, an operator's SQL,
// a TRUNCATE), is no longer answered from another replica's session
// cache after the revocation delay, and leaves that cache by
// notification (migration 11's trigger), not only by the fallback to the
// database. A session the replica ends itself is gone from its own cache
// at once. Changes of the record alone are not announced (the cache's
// documented staleness), but the replica that makes one reads it back.
func TestSessionEndReachesTheOtherReplicaWithinTheBound(t *testing.T) {
	ctx := t.Context()
	url := newDB(t)
	a, b := openAt(t, url, postgres.Options{RevocationDelay: bound}), openAt(t, url, postgres.Options{RevocationDelay: bound})
	m := storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive, CreatedAt: t0}
	if err := a.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	ss := []storage.Session{
		sessionOf("s-logout", "m1", "d1"), sessionOf("s-device", "m1", "d2"), sessionOf("s-sql", "m2", "d3"),
		sessionOf("s-moved", "m2", "d3"), sessionOf("s-credentials", "m1", "d4"), sessionOf("s-truncated", "m3", "d5"),
		sessionOf("s-local", "m3", "d5"), sessionOf("s-data", "m4", "d6"),
	}
	for _, s := range ss {
		if err := a.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ss {
		readIntoCache(t, b, s.ID)
	}
	gone := func(what, id string) {
		t.Helper()
		done := time.Now()
		within(t, done, what+": b answers the session gone", func() bool { _, ok := cachedSession(t, b, id); return !ok })
		// By the notification: without it the copy stays while b is
		// fresh (the bound above holds by the fallback either way).
		eventually(t, what+": b's cache drops it", func() bool { return !b.SessionCached(id) })
	}

	if err := a.DeleteSession(ctx, "s-logout"); err != nil {
		t.Fatal(err)
	}
	gone("a logout", "s-logout")
	if n, err := a.DeleteSessions(ctx, storage.SessionFilter{MemberID: "m1", DeviceID: "d2"}); err != nil || n != 1 {
		t.Fatalf("sign out a device: %d, %v", n, err)
	}
	gone("a device signed out", "s-device")
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DELETE FROM sessions WHERE id = 's-sql'"); err != nil {
		t.Fatal(err)
	}
	gone("an operator's DELETE", "s-sql")
	if err := a.UpdateSession(ctx, "s-moved", func(s storage.Session) (storage.Session, error) {
		s.MemberID = "m9"
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "b sees the session's new member", func() bool {
		got, ok := cachedSession(t, b, "s-moved")
		return ok && got.MemberID == "m9"
	})
	if _, err := a.ChangeCredentials(ctx, "m1", func(m storage.Member) (storage.Member, error) {
		m.SecurityStamp = "new"
		return m, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	gone("a credential change", "s-credentials")
	if _, err := conn.Exec(ctx, "TRUNCATE sessions"); err != nil {
		t.Fatal(err)
	}
	gone("a TRUNCATE", "s-truncated")
	for _, s := range ss[6:] {
		if err := a.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, ok := cachedSession(t, b, s.ID); !ok {
			t.Fatalf("%s: created again, not found", s.ID)
		}
	}

	// b's own writes: read back at once, without waiting for anything.
	if err := b.DeleteSession(ctx, "s-local"); err != nil {
		t.Fatal(err)
	}
	if _, ok := cachedSession(t, b, "s-local"); ok {
		t.Error("b still answers a session it deleted itself")
	}
	if err := b.UpdateSession(ctx, "s-data", func(s storage.Session) (storage.Session, error) {
		s.Data = map[string]string{"step": "2"}
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := cachedSession(t, b, "s-data"); got.Data["step"] != "2" {
		t.Errorf("b answers its own update's old copy: %v", got.Data)
	}
	// Another replica's change of the flow state alone is not announced:
	// a keeps its copy (the staleness storage.CachedSessions allows) until
	// something ends the session.
	readIntoCache(t, a, "s-data")
	if err := b.UpdateSession(ctx, "s-data", func(s storage.Session) (storage.Session, error) {
		s.Data = map[string]string{"step": "3"}
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(bound / 2)
	if got, ok := a.SessionCachedCopy("s-data"); !ok || got.Data["step"] != "2" {
		t.Errorf("a's cached copy after b's update of the flow state: %v, %v; want it kept, step 2", got.Data, ok)
	}
	if got, err := a.SessionByID(ctx, "s-data"); err != nil || got.Data["step"] != "3" {
		t.Errorf("a's uncached read: %v, %v; want step 3", got.Data, err)
	}
}

// A replica whose listener hangs answers sessions from the database once
// its freshness is older than the bound: a logout elsewhere is not
// missed beyond it.
func TestSessionCacheWithAHungListenerKeepsTheBound(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{RevocationDelay: bound})
	if err := a.CreateSession(ctx, sessionOf("s1", "m1", "d1")); err != nil {
		t.Fatal(err)
	}
	readIntoCache(t, b, "s1")
	b.StopFeed()
	if err := a.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "b answers the session gone", func() bool { _, ok := cachedSession(t, b, "s1"); return !ok })
	if !b.SessionCached("s1") || b.Fresh() {
		t.Fatal("a stopped listener delivered the logout: this test no longer checks the fallback")
	}
}
