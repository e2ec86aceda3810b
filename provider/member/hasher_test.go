package member

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestHasherRoundTrip(t *testing.T) {
	h := NewHasher(cheapHash)
	ctx := t.Context()
	phc, err := h.Hash(ctx, "パスワード Secret-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected PHC string %q", phc)
	}
	p, err := parseArgon2id(phc)
	if err != nil || len(p.salt) != 16 || len(p.key) != 32 {
		t.Fatalf("parse %q: %+v, %v", phc, p, err)
	}
	if again, _ := h.Hash(ctx, "パスワード Secret-1"); again == phc {
		t.Error("two hashes of one secret are equal: salt not random")
	}
	for _, tc := range []struct {
		secret           string
		wantOK, wantStal bool
	}{
		{"パスワード Secret-1", true, false},
		{"パスワード Secret-2", false, false},
		{"", false, false},
	} {
		ok, stale, err := h.Verify(ctx, phc, tc.secret)
		if err != nil || ok != tc.wantOK || stale != tc.wantStal {
			t.Errorf("Verify(%q) = %v, %v, %v", tc.secret, ok, stale, err)
		}
	}
}

func TestHasherRehashOnParamChange(t *testing.T) {
	ctx := t.Context()
	old := NewHasher(HashOptions{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	phc, err := old.Hash(ctx, "s3cret-Pass")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []HashOptions{
		{MemoryKiB: 128, Iterations: 1, Parallelism: 1},
		{MemoryKiB: 64, Iterations: 2, Parallelism: 1},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 2},
	} {
		ok, stale, err := NewHasher(o).Verify(ctx, phc, "s3cret-Pass")
		if !ok || !stale || err != nil {
			t.Errorf("%+v: Verify = %v, %v, %v; want ok and needsRehash", o, ok, stale, err)
		}
	}
}

func TestHasherBcrypt(t *testing.T) {
	h := NewHasher(cheapHash)
	b, err := bcrypt.GenerateFromPassword([]byte("imported-Pass1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		phc := prefix + string(b[4:])
		ok, stale, err := h.Verify(t.Context(), phc, "imported-Pass1")
		if !ok || !stale || err != nil {
			t.Errorf("%s: Verify = %v, %v, %v; want ok, needsRehash", prefix, ok, stale, err)
		}
		if ok, _, _ := h.Verify(t.Context(), phc, "imported-Pass2"); ok {
			t.Errorf("%s: wrong password verified", prefix)
		}
	}
}

func TestHasherMalformed(t *testing.T) {
	h := NewHasher(cheapHash)
	good, _ := h.Hash(t.Context(), "x")
	for _, phc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=64", "m=99999999", 1), // beyond the memory bound
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		good[:len(good)-10],
		good + "$extra",
		"$2b$04$short",
		"$2b$31$" + strings.Repeat("a", 53), // cost beyond the bound
	} {
		if _, _, err := h.Verify(t.Context(), phc, "x"); !errors.Is(err, ErrHashFormat) {
			t.Errorf("Verify(%q) err = %v, want ErrHashFormat", phc, err)
		}
	}
}

// blockingHasher returns a hasher whose slots block until release is closed.
func blockingHasher(maxConc, queue int) (h *Hasher, entered chan struct{}, release chan struct{}) {
	h = NewHasher(HashOptions{MemoryKiB: 64, Iterations: 1, Parallelism: 1, MaxConcurrent: maxConc, Queue: queue})
	entered, release = make(chan struct{}, 100), make(chan struct{})
	h.hook = func() {
		entered <- struct{}{}
		<-release
	}
	return h, entered, release
}

func TestHasherBusy(t *testing.T) {
	for _, tc := range []struct {
		name          string
		maxConc, wait int // queue option and how many may wait
		queue         int
	}{
		{"no queue", 1, 0, -1},
		{"queue of two", 1, 2, 2},
		{"two slots, one waiting", 2, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, entered, release := blockingHasher(tc.maxConc, tc.queue)
			ctx := t.Context()
			var wg sync.WaitGroup
			errs := make(chan error, 10)
			for range tc.maxConc + tc.wait {
				wg.Go(func() {
					_, err := h.Hash(ctx, "x")
					errs <- err
				})
			}
			for range tc.maxConc {
				<-entered
			}
			waitFor(t, func() bool { r, w := h.Stats(); return r == tc.maxConc && w == tc.wait })
			if _, err := h.Hash(ctx, "x"); !errors.Is(err, ErrBusy) {
				t.Errorf("Hash when saturated: %v, want ErrBusy", err)
			}
			if err := h.DummyVerify(ctx, "x"); !errors.Is(err, ErrBusy) {
				t.Errorf("DummyVerify when saturated: %v, want ErrBusy", err)
			}
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("queued hash failed: %v", err)
				}
			}
			if r, w := h.Stats(); r != 0 || w != 0 {
				t.Errorf("Stats after = %d, %d", r, w)
			}
		})
	}
}

func TestHasherWaitRespectsContext(t *testing.T) {
	h, entered, release := blockingHasher(1, 5)
	defer close(release)
	go func() { _, _ = h.Hash(context.Background(), "x") }()
	<-entered
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if _, w := h.Stats(); w != 0 {
		t.Errorf("waiting = %d after the caller gave up", w)
	}
}

// TestHasherDefaults runs the production parameters once.
func TestHasherDefaults(t *testing.T) {
	h := NewHasher(HashOptions{})
	phc, err := h.Hash(t.Context(), "Default-Params-1")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", DefaultMemoryKiB, DefaultIterations, DefaultParallelism)
	if !strings.HasPrefix(phc, want) {
		t.Errorf("PHC %q, want prefix %q", phc, want)
	}
	if ok, stale, err := h.Verify(t.Context(), phc, "Default-Params-1"); !ok || stale || err != nil {
		t.Errorf("Verify = %v, %v, %v", ok, stale, err)
	}
	if err := h.DummyVerify(t.Context(), "Default-Params-1"); err != nil {
		t.Errorf("DummyVerify: %v", err)
	}
}

// waitFor polls cond (a state reached by other goroutines) for up to 5s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
