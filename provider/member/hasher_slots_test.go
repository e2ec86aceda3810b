package member

import (
	"context"
	"runtime"
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

// TestHasherKeepsMemory: once a slot's memory exists, hashing and
// verifying allocate none; a stored hash that asks for more memory than
// the Hasher's gets its own, and the slot stays the configured size.
func TestHasherKeepsMemory(t *testing.T) {
	const kib = 8 * 1024
	h := NewHasher(HashOptions{MemoryKiB: kib, Iterations: 1, Parallelism: 1, MaxConcurrent: 1})
	ctx := t.Context()
	phc, err := h.Hash(ctx, "Warm-Up-1") // allocates the slot's memory
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 4
	for range n {
		if _, err := h.Hash(ctx, "Kept-Memory-1"); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, phc, "Warm-Up-1"); !ok || err != nil {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > kib*1024/2 {
		t.Errorf("%d hashes allocated %d KiB; each would take %d KiB without kept memory", 2*n, got/1024, kib)
	}

	bigger := NewHasher(HashOptions{MemoryKiB: 2 * kib, Iterations: 1, Parallelism: 1})
	big, err := bigger.Hash(ctx, "Bigger-Hash-1")
	if err != nil || !strings.Contains(big, "m=16384,") {
		t.Fatalf("Hash = %q, %v", big, err)
	}
	if ok, stale, err := h.Verify(ctx, big, "Bigger-Hash-1"); !ok || !stale || err != nil {
		t.Errorf("Verify of a bigger hash = %v, %v, %v; want true, true (rehash), nil", ok, stale, err)
	}
	mem := <-h.slots
	defer func() { h.slots <- mem }()
	if got := mem.Blocks(); got != kib {
		t.Errorf("slot memory = %d blocks after a bigger verify, want %d", got, kib)
	}
}
