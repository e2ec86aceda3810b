package provider

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage/bolt"
)

// The replay check on a real bbolt store, with a clock the test moves: a
// credential is used once, across a restart of the process (a new guard on
// the same file) too, on either path, whatever order the paths meet it in.

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func replayEnv(t *testing.T) (*bolt.Store, *testClock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "replay.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, &testClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
}

func hexKey(p *Provider, s string) string { return p.tokenHash("test", s) }

func newGuard(t *testing.T, st *bolt.Store, local bool, clock *testClock) *replayGuard {
	t.Helper()
	g, err := newReplayGuard(t.Context(), st, local, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestReplayGuard(t *testing.T) {
	p := &Provider{opts: Options{HMACKey: []byte("replay-test-key-0123456789abcdef")}}
	for _, local := range []bool{true, false} {
		name := map[bool]string{true: "in memory (bbolt)", false: "in the store (replicas)"}[local]
		t.Run(name, func(t *testing.T) {
			st, clock := replayEnv(t)
			g := newGuard(t, st, local, clock)
			now := clock.Now()
			exp := now.Add(time.Minute)
			k := hexKey(p, "a")
			if err := g.use(t.Context(), k, now, exp); err != nil {
				t.Fatal(err)
			}
			clock.add(time.Second)
			if err := g.use(t.Context(), k, now, exp); !errors.Is(err, errReplayed) {
				t.Errorf("second use: %v, want errReplayed", err)
			}
			if used, _ := st.JTIUsed(t.Context(), k, clock.Now()); used == local {
				t.Errorf("in the store: %v (local %v): the memory path writes nothing, the store path writes", used, local)
			}
			// No iat: always the store.
			k2 := hexKey(p, "no-iat")
			if err := g.use(t.Context(), k2, time.Time{}, exp); err != nil {
				t.Fatal(err)
			}
			if err := g.use(t.Context(), k2, time.Time{}, exp); !errors.Is(err, errReplayed) {
				t.Errorf("second use without iat: %v", err)
			}
		})
	}
}

// TestReplayGuardRestart: a new process (a new guard on the same file)
// refuses whatever the old one took in memory (the fence), takes
// credentials dated after the old one's last second, and still refuses
// what the old one wrote to the store. A first process on a file, with no
// fence on record, takes credentials dated before it started.
func TestReplayGuardRestart(t *testing.T) {
	p := &Provider{opts: Options{HMACKey: []byte("replay-test-key-0123456789abcdef")}}
	st, clock := replayEnv(t)
	t0 := clock.Now()
	clock.add(300 * time.Millisecond)
	old := newGuard(t, st, true, clock)
	inMemory, ahead := hexKey(p, "in-memory"), hexKey(p, "ahead")
	if err := old.use(t.Context(), inMemory, t0, t0.Add(time.Minute)); err != nil {
		t.Fatalf("a credential dated before the first process started: %v", err)
	}
	// A client whose clock runs 10 s fast: the store path.
	if err := old.use(t.Context(), ahead, t0.Add(10*time.Second), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	clock.add(400 * time.Millisecond) // a restart within the same second
	g := newGuard(t, st, true, clock)
	if err := g.use(t.Context(), inMemory, t0, t0.Add(time.Minute)); !errors.Is(err, errBeforeStart) {
		t.Errorf("a credential the old process took in memory, after the restart: %v, want errBeforeStart", err)
	}
	if err := g.use(t.Context(), hexKey(p, "same second"), t0, t0.Add(time.Minute)); !errors.Is(err, errBeforeStart) {
		t.Errorf("a credential of the old process's last second: %v, want errBeforeStart", err)
	}
	clock.add(time.Second)
	if err := g.use(t.Context(), hexKey(p, "fresh"), clock.Now(), clock.Now().Add(time.Minute)); err != nil {
		t.Errorf("a credential made in the next second: %v", err)
	}
	clock.add(10 * time.Second) // the fast client's iat is now past: the memory path
	if err := g.use(t.Context(), ahead, t0.Add(10*time.Second), t0.Add(time.Minute)); !errors.Is(err, errReplayed) {
		t.Errorf("a credential the old process wrote, on the memory path now: %v, want errReplayed", err)
	}

	// Two restarts on: the newest fence record counts.
	clock.add(3 * time.Second)
	third := newGuard(t, st, true, clock)
	if third.fence != g.recorded.Load() || third.fence <= t0.Unix() {
		t.Errorf("fence %d, want the second process's last recorded second %d", third.fence, g.recorded.Load())
	}
}

// TestReplayGuardClockBack: the wall clock set back within the process
// does not turn a credential used in memory into a new one for the store.
func TestReplayGuardClockBack(t *testing.T) {
	p := &Provider{opts: Options{HMACKey: []byte("replay-test-key-0123456789abcdef")}}
	st, clock := replayEnv(t)
	g := newGuard(t, st, true, clock)
	clock.add(5 * time.Second)
	iat := clock.Now()
	k := hexKey(p, "k")
	if err := g.use(t.Context(), k, iat, iat.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	clock.add(-3 * time.Second) // iat is now ahead: the store path
	if err := g.use(t.Context(), k, iat, iat.Add(time.Minute)); !errors.Is(err, errReplayed) {
		t.Errorf("after the clock went back: %v, want errReplayed", err)
	}
}

// TestReplayGuardRace: 50 concurrent uses of one credential, some of them
// dated a hair ahead (the store path) and some not (the memory path):
// exactly one wins.
func TestReplayGuardRace(t *testing.T) {
	p := &Provider{opts: Options{HMACKey: []byte("replay-test-key-0123456789abcdef")}}
	for round := range 5 {
		st, clock := replayEnv(t)
		g := newGuard(t, st, true, clock)
		clock.add(time.Second)
		k := hexKey(p, "race")
		iat := clock.Now()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				at := iat
				if i%2 == 0 {
					at = at.Add(time.Nanosecond)
				}
				if err := g.use(t.Context(), k, at, iat.Add(time.Minute)); err == nil {
					wins.Add(1)
				} else if !errors.Is(err, errReplayed) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("round %d: %d winners", round, wins.Load())
		}
	}
}

func TestReplayGuardForgets(t *testing.T) {
	p := &Provider{opts: Options{HMACKey: []byte("replay-test-key-0123456789abcdef")}}
	st, clock := replayEnv(t)
	g := newGuard(t, st, true, clock)
	clock.add(time.Second)
	for i := range 100 {
		if err := g.use(t.Context(), hexKey(p, string(rune('a'+i))), clock.Now(), clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	clock.add(time.Minute + 11*time.Second)
	for i := range replayShards {
		g.shards[i].mu.Lock()
		g.shards[i].sweep(clock.Now())
		n := len(g.shards[i].seen)
		g.shards[i].mu.Unlock()
		if n != 0 {
			t.Errorf("shard %d holds %d expired entries", i, n)
		}
	}
	if _, err := memKey("not hex"); err == nil {
		t.Error("a key that is no HMAC was taken")
	}
}
