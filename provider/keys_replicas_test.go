package provider

import (
	"context"
	"crypto/hmac"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
	"tsubasa/storage/storagetest"
)

// The cluster of the PostgreSQL tests is started on first use only.
func TestMain(m *testing.M) { pgtest.Main(m) }

// pgStores opens n stores on one new database, as n replicas.
func pgStores(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.NewDatabase(t, "")
	var out []*postgres.Store
	for range n {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: url, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		out = append(out, st)
	}
	return out
}

// Replicas starting together on an empty database create one key per
// algorithm between them, and all sign with those.
func TestFirstKeysCreatedOnceByReplicasStartingTogether(t *testing.T) {
	stores := pgStores(t, 3)
	clock := storagetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	rings := make([]*keyRing, len(stores))
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		rings[i] = newKeyRing(st, 2048, clock.Now, time.Hour, slog.New(slog.DiscardHandler))
		wg.Go(func() { errs[i] = rings[i].load(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := stores[0].ListKeys(t.Context())
	if err != nil || len(keys) != len(algorithms) {
		t.Fatalf("%d keys stored (%v), want one per algorithm", len(keys), err)
	}
	for _, alg := range algorithms {
		kid := signingKID(t, rings[0], alg)
		for i, r := range rings[1:] {
			if got := signingKID(t, r, alg); got != kid {
				t.Errorf("replica %d signs %s with %s, replica 0 with %s", i+1, alg, got, kid)
			}
		}
	}
}

// When a rotation is due, two replicas finding it due at once rotate once:
// one new key per algorithm, which the other replica then publishes.
func TestOneRotationByTwoReplicas(t *testing.T) {
	stores := pgStores(t, 2)
	clock := storagetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	a := newTestRing(t, stores[0], clock)
	b := newTestRing(t, stores[1], clock)
	clock.Advance(24 * time.Hour)
	var rotated [2]bool
	var errs [2]error
	var wg sync.WaitGroup
	for i, r := range []*keyRing{a, b} {
		wg.Go(func() { rotated[i], errs[i] = r.rotateIfDue(t.Context(), 24*time.Hour) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if rotated[0] == rotated[1] {
		t.Fatalf("rotated: %v; want exactly one replica to rotate", rotated)
	}
	keys, err := stores[0].ListKeys(t.Context())
	if err != nil || len(keys) != 2*len(algorithms) {
		t.Fatalf("%d keys after the rotation (%v), want the %d first and %d new", len(keys), err, len(algorithms), len(algorithms))
	}
	// The next check finds nothing due, on either replica.
	for _, r := range []*keyRing{a, b} {
		if err := r.refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if again, err := r.rotateIfDue(t.Context(), 24*time.Hour); again || err != nil {
			t.Errorf("a second rotation: %v, %v", again, err)
		}
		if n := len(publishedKIDs(r)); n != 2*len(algorithms) {
			t.Errorf("a replica publishes %d keys, want %d", n, 2*len(algorithms))
		}
	}
}

// A replica hears of a rotation made on another through the store's
// notifications, without waiting for its periodic reload.
func TestReplicaHearsAnotherRotation(t *testing.T) {
	stores := pgStores(t, 2)
	clock := storagetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	a := newTestRing(t, stores[0], clock)
	b := newTestRing(t, stores[1], clock)
	stop := b.subscribe()
	defer stop()
	if _, err := a.rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.reload:
	case <-time.After(30 * time.Second): // a liveness bound, far above any delivery
		t.Fatal("the other replica heard nothing of the rotation")
	}
	if err := b.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(publishedKIDs(b)); n != 2*len(algorithms) {
		t.Fatalf("the other replica publishes %d keys, want %d", n, 2*len(algorithms))
	}
}

// A client removed, or given a new secret, on one replica is refused on
// another as soon as that one hears of it: its cache (whose lifetime the
// frozen clock never ends here) drops the client.
func TestClientChangeOnOneReplicaReachesAnother(t *testing.T) {
	stores := pgStores(t, 2)
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, b := newRegistry(t, stores[0], clk.now), newRegistry(t, stores[1], clk.now)
	ctx := t.Context()
	first, err := a.Create(ctx, storage.Client{ID: "shop", GrantTypes: []string{GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := b.get(ctx, "shop"); err != nil || !hmac.Equal(c.SecretHash, HashSecret(b.hmacKey, first)) {
		t.Fatalf("b's first lookup: %v", err)
	}
	_, second, err := a.RotateSecret(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "b serves the new secret", func() bool {
		c, err := b.get(ctx, "shop")
		return err == nil && hmac.Equal(c.SecretHash, HashSecret(b.hmacKey, second))
	})
	if _, err := a.Remove(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b refuses the removed client", func() bool {
		_, err := b.get(ctx, "shop")
		return errors.Is(err, storage.ErrNotFound)
	})
}

// eventually polls ok until it holds, within a liveness bound far above
// any notification's delivery (not a timing assertion: a change never
// heard fails, a slow machine does not).
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
