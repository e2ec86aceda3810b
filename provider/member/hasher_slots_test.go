package member

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
)

// gatedStore holds the first AppendEvent (a successful login's record of
// itself) until release is closed.
type gatedStore struct {
	ServiceStore
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) AppendEvent(ctx context.Context, e storage.Event) error {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return g.ServiceStore.AppendEvent(ctx, e)
}

// TestLoginHoldsNoSlotWhileRecording: while a login writes its outcome,
// it holds neither a hashing slot nor its admission. With one slot, a
// hash started then completes before the login's write does.
func TestLoginHoldsNoSlotWhileRecording(t *testing.T) {
	f := newFixture(t, nil)
	f.create(t, "1234567")
	g := &gatedStore{ServiceStore: f.store, entered: make(chan struct{}), release: make(chan struct{})}
	o := cheapHash
	o.MaxConcurrent = 1
	h := NewHasher(o)
	svc := NewService(g, h, Options{Now: f.clock.Now})
	done := make(chan error, 1)
	go func() {
		_, err := svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: goodPassword})
		done <- err
	}()
	<-g.entered
	if r, w := h.Stats(); r != 0 || w != 0 {
		t.Errorf("while the login is written: running %d, waiting %d; want 0, 0", r, w)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); err != nil {
		t.Errorf("hash while a login writes: %v (the login holds the only slot?)", err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Errorf("login: %v", err)
	}
	if r, w := h.Stats(); r != 0 || w != 0 {
		t.Errorf("after: running %d, waiting %d", r, w)
	}
}

// TestHasherVerifiesOtherParameters: a stored hash made with other
// argon2id parameters (more memory, more passes) than the Hasher's own is
// verified with its own, and flagged for rehashing.
func TestHasherVerifiesOtherParameters(t *testing.T) {
	const kib = 8 * 1024
	h := NewHasher(HashOptions{MemoryKiB: kib, Iterations: 1, Parallelism: 1, MaxConcurrent: 1})
	ctx := t.Context()
	own, err := h.Hash(ctx, "Own-Params-1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, stale, err := h.Verify(ctx, own, "Own-Params-1"); !ok || stale || err != nil {
		t.Errorf("Verify of its own hash = %v, %v, %v; want true, false, nil", ok, stale, err)
	}
	bigger := NewHasher(HashOptions{MemoryKiB: 2 * kib, Iterations: 2, Parallelism: 1})
	big, err := bigger.Hash(ctx, "Bigger-Hash-1")
	if err != nil || !strings.Contains(big, "m=16384,t=2,") {
		t.Fatalf("Hash = %q, %v", big, err)
	}
	if ok, stale, err := h.Verify(ctx, big, "Bigger-Hash-1"); !ok || !stale || err != nil {
		t.Errorf("Verify of a bigger hash = %v, %v, %v; want true, true (rehash), nil", ok, stale, err)
	}
	if ok, _, err := h.Verify(ctx, big, "Bigger-Hash-2"); ok || err != nil {
		t.Errorf("Verify of a bigger hash with the wrong secret = %v, %v; want false, nil", ok, err)
	}
}
