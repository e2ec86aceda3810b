package member

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// The cluster of the PostgreSQL tests is started on first use only.
func TestMain(m *testing.M) { pgtest.Main(m) }

// replicas are Services on one PostgreSQL database, each with its own
// store (pool, listener, caches) and hasher, as replicas behind a load
// balancer would be, sharing one test clock.
type replicas struct {
	svcs  []*Service
	store *postgres.Store
	clock interface{ Now() time.Time }
}

func newReplicas(t *testing.T, n int, lockout LockoutOptions) *replicas {
	t.Helper()
	url := pgtest.NewDatabase(t, "")
	clock := newClock()
	r := &replicas{clock: clock}
	for range n {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: url, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if r.store == nil {
			r.store = st
		}
		r.svcs = append(r.svcs, NewService(st, NewHasher(cheapHash),
			Options{Lockout: lockout, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)}))
	}
	return r
}

// guess sends n wrong passwords for number at once, spread over the
// replicas, each from its own address, and returns how many were checked
// (answered as wrong rather than throttled).
func (r *replicas) guess(t *testing.T, number string, n int) int {
	t.Helper()
	var checked atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := r.svcs[i%len(r.svcs)].Authenticate(t.Context(),
				LoginInput{Number: number, Secret: "wrong-Pass-1", IP: fmt.Sprintf("192.0.2.%d", i+1)})
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				checked.Add(1)
			case throttledFor(err) == 0:
				t.Errorf("guess %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return int(checked.Load())
}

var fiveFailures = LockoutOptions{MaxFailures: 5, Window: 15 * time.Minute, BaseDelay: time.Minute, MaxDelay: 10 * time.Minute}

// TestLockoutHoldsAcrossReplicas: twenty guesses at once, spread over
// three replicas, check at most five passwords of a member: the attempts
// in flight are counted in the database, not in each process. Guesses
// sent one by one afterwards bring the total to exactly five.
func TestLockoutHoldsAcrossReplicas(t *testing.T) {
	r := newReplicas(t, 3, fiveFailures)
	m, err := r.svcs[0].CreateMember(t.Context(), NewMember{Number: "1234567", Password: goodPassword,
		FamilyNameLatin: "Yamada", Email: "hanako@example.jp", Country: "JP"})
	if err != nil {
		t.Fatal(err)
	}
	burst := r.guess(t, "1234567", 20)
	if burst < 1 || burst > 5 {
		t.Fatalf("%d of 20 guesses over 3 replicas were checked, want 1 to 5", burst)
	}
	total := burst
	for range 10 {
		total += r.guess(t, "1234567", 1)
	}
	if total != 5 {
		t.Errorf("%d guesses were checked in all, want exactly 5", total)
	}
	got, err := r.store.MemberByID(t.Context(), m.ID)
	if err != nil || got.FailedLogins != 5 || got.LockedUntil.IsZero() {
		t.Errorf("member after the guesses: %d failures, locked until %v (%v)", got.FailedLogins, got.LockedUntil, err)
	}
	if f, err := r.store.EnterLogin(t.Context(), m.ID, "", r.clock.Now(), r.clock.Now().Add(time.Minute)); err != nil || f.InFlight != 1 {
		t.Errorf("attempts left in flight: %d, %v; want none but this probe", f.InFlight-1, err)
	}
}

// TestUnknownNumberThrottleAcrossReplicas: a number that belongs to no
// member is throttled as a member would be, on every replica together.
func TestUnknownNumberThrottleAcrossReplicas(t *testing.T) {
	r := newReplicas(t, 3, fiveFailures)
	total := r.guess(t, "7654321", 20)
	if total < 1 || total > 5 {
		t.Fatalf("%d of 20 guesses on an unknown number were checked, want 1 to 5", total)
	}
	for range 10 {
		total += r.guess(t, "7654321", 1)
	}
	if total != 5 {
		t.Errorf("%d guesses on an unknown number were checked in all, want exactly 5", total)
	}
}

// TestAddressLimitAcrossReplicas: an address's failures on one replica
// count on the others: three failures anywhere, and the fourth attempt is
// refused wherever it lands.
func TestAddressLimitAcrossReplicas(t *testing.T) {
	l := fiveFailures
	l.PerIPMaxFailures = 3
	r := newReplicas(t, 3, l)
	for i, svc := range r.svcs {
		_, err := svc.Authenticate(t.Context(), LoginInput{Number: fmt.Sprint(7000001 + i), Secret: "wrong-Pass-1", IP: "198.51.100.7"})
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for i, svc := range r.svcs {
		_, err := svc.Authenticate(t.Context(), LoginInput{Number: "7000009", Secret: "wrong-Pass-1", IP: "198.51.100.7"})
		if throttledFor(err) == 0 {
			t.Errorf("replica %d after three failures from the address elsewhere: %v, want throttled", i, err)
		}
	}
	if _, err := r.svcs[0].Authenticate(t.Context(), LoginInput{Number: "7000009", Secret: "wrong-Pass-1", IP: "198.51.100.8"}); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("another address: %v", err)
	}
}
