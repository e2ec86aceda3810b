package member

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
)

// countingStore counts the member writes and events of the logins
// through it, and can fail the member writes.
type countingStore struct {
	ServiceStore
	memberWrites, events atomic.Int32
	failWrites           bool
}

func (c *countingStore) UpdateMember(ctx context.Context, id string, f func(storage.Member) (storage.Member, error)) error {
	c.memberWrites.Add(1)
	if c.failWrites {
		return errors.New("disk full")
	}
	return c.ServiceStore.UpdateMember(ctx, id, f)
}

func (c *countingStore) UpdateMemberWithEvents(ctx context.Context, id string, f func(storage.Member) (storage.Member, error), evs ...storage.Event) error {
	c.memberWrites.Add(1)
	c.events.Add(int32(len(evs)))
	if c.failWrites {
		return errors.New("disk full")
	}
	return c.ServiceStore.UpdateMemberWithEvents(ctx, id, f, evs...)
}

func (c *countingStore) AppendEvent(ctx context.Context, e storage.Event) error {
	c.events.Add(1)
	return c.ServiceStore.AppendEvent(ctx, e)
}

// TestLoginWrites: a login writes once, after its check. A success on a
// clean record writes its event alone; a failure counts itself and its
// event in one write; the success after it clears the count with its
// event. Nothing stays in flight after any of them.
func TestLoginWrites(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	cs := &countingStore{ServiceStore: f.store}
	svc := NewService(cs, NewHasher(cheapHash), Options{Now: f.clock.Now})
	login := func(secret string) error {
		_, err := svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: secret, IP: "192.0.2.1"})
		return err
	}
	steps := []struct {
		secret              string
		want                error
		memberWrites, evs   int32
		failuresInTheRecord int
	}{
		{goodPassword, nil, 0, 1, 0},
		{"wrong-Pass-1", ErrInvalidCredentials, 1, 1, 1},
		{goodPassword, nil, 1, 1, 0},
	}
	for i, s := range steps {
		cs.memberWrites.Store(0)
		cs.events.Store(0)
		if err := login(s.secret); !errors.Is(err, s.want) {
			t.Fatalf("step %d: %v, want %v", i, err, s.want)
		}
		if w, e := cs.memberWrites.Load(), cs.events.Load(); w != s.memberWrites || e != s.evs {
			t.Errorf("step %d: %d member writes and %d events, want %d and %d", i, w, e, s.memberWrites, s.evs)
		}
		if got := f.member(t, m.ID).FailedLogins; got != s.failuresInTheRecord {
			t.Errorf("step %d: FailedLogins = %d, want %d", i, got, s.failuresInTheRecord)
		}
		if n := stillInFlight(t, f.store, m.ID, "", f.clock.Now()); n != 0 {
			t.Errorf("step %d: %d attempts still in flight", i, n)
		}
	}
}

// TestLoginFailureUnrecordedIsNotAnswered: a failure that cannot be
// counted is not answered as a wrong password (the guess would go
// uncounted); the caller gets an error instead.
func TestLoginFailureUnrecordedIsNotAnswered(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	cs := &countingStore{ServiceStore: f.store, failWrites: true}
	svc := NewService(cs, NewHasher(cheapHash), Options{Now: f.clock.Now})
	_, err := svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: "wrong-Pass-1"})
	if err == nil || errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("err = %v, want a storage error, not the wrong-password answer", err)
	}
	if n := stillInFlight(t, f.store, m.ID, "", f.clock.Now()); n != 0 {
		t.Errorf("%d attempts still in flight", n)
	}
}

// TestLoginCancelledWaitNotCounted: a login whose request ends while it
// waits for a hashing slot had its secret checked by no one, so it counts
// for nothing and leaves nothing in flight; the failure it waited behind
// counts once.
func TestLoginCancelledWaitNotCounted(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	h, entered, release := blockingHasher(1, 1)
	svc := NewService(f.store, h, Options{Now: f.clock.Now})
	first := make(chan error)
	go func() {
		_, err := svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: "wrong-Pass-2"})
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := svc.Authenticate(ctx, LoginInput{Number: "1234567", Secret: "wrong-Pass-1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting login: %v, want its deadline", err)
	}
	close(release)
	if err := <-first; !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("first login: %v", err)
	}
	if got := f.member(t, m.ID).FailedLogins; got != 1 {
		t.Errorf("FailedLogins = %d, want 1 (the checked failure only)", got)
	}
	if n := stillInFlight(t, f.store, m.ID, "", f.clock.Now()); n != 0 {
		t.Errorf("%d attempts still in flight", n)
	}
}

// TestLockoutFail: a failure counts even when a concurrent one locked the
// member meanwhile, and never shortens that lock.
func TestLockoutFail(t *testing.T) {
	l := LockoutOptions{MaxFailures: 3, Window: 15 * time.Minute, BaseDelay: time.Minute, MaxDelay: time.Hour}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	locked := lockState{failures: 5, last: now, lockedUntil: now.Add(30 * time.Minute)}
	got := l.fail(locked, now.Add(-time.Second)) // admitted before the lock
	if got.failures != 6 || !got.last.Equal(now) || !got.lockedUntil.Equal(now.Add(30*time.Minute)) {
		t.Errorf("fail on a locked state = %+v", got)
	}
	got = l.fail(lockState{failures: 2, last: now.Add(-time.Hour)}, now) // the old failures left the window
	if got.failures != 1 || !got.lockedUntil.IsZero() {
		t.Errorf("fail after the window = %+v", got)
	}
	got = l.fail(lockState{failures: 2, last: now}, now)
	if got.failures != 3 || !got.lockedUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("third failure = %+v, want locked for a minute", got)
	}
}

// unitSpy notes, for each event appended, whether it went under a unit.
type unitSpy struct {
	ServiceStore
	mu   sync.Mutex
	held map[string]bool // event type → under a unit
}

func (u *unitSpy) AppendEvent(ctx context.Context, e storage.Event) error {
	u.mu.Lock()
	u.held[e.Type+"/"+e.Reason] = storage.UnitOf(ctx) != nil
	u.mu.Unlock()
	return u.ServiceStore.AppendEvent(ctx, e)
}

// TestLoginUnderAUnit: under a request's unit (storage.Units), a success's
// event waits for the request's commit, while a failure, known number or
// not, is stored before Authenticate returns, inside the padded duration
// of the answer.
func TestLoginUnderAUnit(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	spy := &unitSpy{ServiceStore: f.store, held: map[string]bool{}}
	svc := NewService(spy, NewHasher(cheapHash), Options{Now: f.clock.Now})
	count := func(typ string) int {
		n := 0
		for _, e := range f.events(t, m.ID) {
			if e.Type == typ {
				n++
			}
		}
		return n
	}
	ctx, commit := f.store.Begin(t.Context())
	login := func(number, secret string) error {
		_, err := svc.Authenticate(ctx, LoginInput{Number: number, Secret: secret, IP: "192.0.2.1"})
		return err
	}
	if err := login("1234567", goodPassword); err != nil {
		t.Fatal(err)
	}
	if n := count(EventPasswordVerified); n != 0 {
		t.Errorf("success event stored before the commit (%d)", n)
	}
	if err := login("1234567", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if n, c := count(EventLoginFailed), f.member(t, m.ID).FailedLogins; n != 1 || c != 1 {
		t.Errorf("known number's failure before the commit: %d events, %d counted; want 1, 1", n, c)
	}
	if err := login("7654321", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	spy.mu.Lock()
	if held, seen := spy.held[EventLoginFailed+"/"+ReasonBadCredentials]; !seen || held {
		t.Errorf("unknown number's failure event: appended %v, under the unit %v; want appended at once", seen, held)
	}
	if !spy.held[EventPasswordVerified+"/"] {
		t.Error("success event not appended under the unit")
	}
	spy.mu.Unlock()
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(EventPasswordVerified); n != 1 {
		t.Errorf("success events after the commit: %d, want 1", n)
	}
}
