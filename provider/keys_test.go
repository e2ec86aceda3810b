package provider

import (
	"log/slog"
	"testing"
	"time"

	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/storagetest"
)

func newTestRing(t *testing.T, st KeyStore, clock *storagetest.Clock) *keyRing {
	t.Helper()
	r := newKeyRing(st, 2048, clock.Now, time.Hour, slog.New(slog.DiscardHandler))
	if err := r.load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

func signingKID(t *testing.T, r *keyRing, alg string) string {
	t.Helper()
	k, err := r.signing(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID()
}

func publishedKIDs(r *keyRing) map[string]bool {
	out := map[string]bool{}
	for _, k := range r.keySet() {
		out[k.ID()] = true
	}
	return out
}

// A rotation publishes the new keys at once and signs with them only
// keyPublishLead later; the old keys sign until then and stay published.
func TestRotationPublishesBeforeSigning(t *testing.T) {
	clock := storagetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	r := newTestRing(t, bolttest.Open(t, bolt.Options{}), clock)
	before := map[string]string{AlgRS256: signingKID(t, r, AlgRS256), AlgES256: signingKID(t, r, AlgES256)}
	keys, err := r.rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2*len(algorithms) || len(publishedKIDs(r)) != 2*len(algorithms) {
		t.Fatalf("after the rotation: %d keys stored, %d published; want %d of each", len(keys), len(publishedKIDs(r)), 2*len(algorithms))
	}
	clock.Advance(keyPublishLead - time.Nanosecond)
	for alg, kid := range before {
		if got := signingKID(t, r, alg); got != kid {
			t.Errorf("%s signs with %s before the new key's ActiveAt, want the old %s", alg, got, kid)
		}
	}
	clock.Advance(time.Nanosecond)
	for alg, kid := range before {
		got := signingKID(t, r, alg)
		if got == kid {
			t.Errorf("%s still signs with the old key %s at the new key's ActiveAt", alg, kid)
		}
		if !publishedKIDs(r)[kid] {
			t.Errorf("the old %s key %s is no longer published", alg, kid)
		}
	}
}

// A ring reloads what another made (another replica, or the command line)
// and rebuilds nothing when nothing changed.
func TestRingReloadsAnotherRotation(t *testing.T) {
	clock := storagetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	st := bolttest.Open(t, bolt.Options{})
	a, b := newTestRing(t, st, clock), newTestRing(t, st, clock)
	if _, err := a.rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(publishedKIDs(b)); n != len(algorithms) {
		t.Fatalf("b publishes %d keys before reloading, want %d", n, len(algorithms))
	}
	if err := b.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(publishedKIDs(b)); n != 2*len(algorithms) {
		t.Fatalf("b publishes %d keys after reloading, want %d", n, 2*len(algorithms))
	}
	doc := b.jwksDocument()
	if err := b.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b.jwksDocument() != doc {
		t.Error("a reload with nothing changed rebuilt the key set")
	}
}

// A ring hears a key change made elsewhere at once (storage.ChangeNotifier:
// bolt tells its subscribers before the write returns), and its reload
// publishes the new keys without waiting for the periodic one.
func TestRingHearsKeyChanges(t *testing.T) {
	clock := storagetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	st := bolttest.Open(t, bolt.Options{})
	a, b := newTestRing(t, st, clock), newTestRing(t, st, clock)
	stop := b.subscribe()
	defer stop()
	if _, err := a.rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.reload:
	default:
		t.Fatal("the other ring was not told of the rotation")
	}
	if err := b.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(publishedKIDs(b)); n != 2*len(algorithms) {
		t.Fatalf("b publishes %d keys after the notified reload, want %d", n, 2*len(algorithms))
	}
}
