package member

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
)

// budgetFixture has a member whose device "dev-known" completed a login
// before, another member with device "dev-other", and lockout rules of 5
// failures for the member and 3 for a known device, first lock 1m.
func budgetFixture(t *testing.T, knownMax int) (*fixture, storage.Member) {
	t.Helper()
	f := newFixture(t, func(o *Options) {
		o.Lockout = LockoutOptions{MaxFailures: 5, Window: 15 * time.Minute, BaseDelay: time.Minute, MaxDelay: 10 * time.Minute,
			KnownDeviceMaxFailures: knownMax}
	})
	m := f.create(t, "1234567")
	other := f.create(t, "7654321")
	for _, d := range []storage.Device{{ID: "dev-known", MemberID: m.ID}, {ID: "dev-other", MemberID: other.ID}} {
		if err := f.store.PutDevice(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	return f, m
}

func (f *fixture) loginFrom(t *testing.T, device, secret string) error {
	t.Helper()
	_, err := f.svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: secret, IP: "192.0.2.1", DeviceID: device})
	return err
}

func (f *fixture) device(t *testing.T, memberID, id string) storage.Device {
	t.Helper()
	d, err := f.store.DeviceByID(t.Context(), memberID, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func throttledFor(err error) time.Duration {
	var te *ThrottledError
	if !errors.As(err, &te) {
		return 0
	}
	return te.RetryAfter
}

// TestKnownDeviceNotLockedByStrangers: five wrong passwords from unknown
// devices lock the member; a device id that is not this member's (forged,
// or another member's device) is unknown; the member's known device still
// logs in, and its success leaves the member's lock in place.
func TestKnownDeviceNotLockedByStrangers(t *testing.T) {
	f, m := budgetFixture(t, 3)
	for i := range 5 {
		if err := f.loginFrom(t, "", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for _, dev := range []string{"", "dev-forged", "dev-other"} {
		if err := f.loginFrom(t, dev, goodPassword); throttledFor(err) != time.Minute {
			t.Errorf("right password from device %q: %v, want throttled for 1m", dev, err)
		}
	}
	locked := f.member(t, m.ID)
	if err := f.loginFrom(t, "dev-known", goodPassword); err != nil {
		t.Fatalf("right password from the known device: %v", err)
	}
	if got := f.member(t, m.ID); got.FailedLogins != locked.FailedLogins || !got.LockedUntil.Equal(locked.LockedUntil) {
		t.Errorf("the known device's login changed the member's lock: %d until %v, was %d until %v",
			got.FailedLogins, got.LockedUntil, locked.FailedLogins, locked.LockedUntil)
	}
	if err := f.loginFrom(t, "", goodPassword); throttledFor(err) == 0 {
		t.Errorf("unknown device after the known one logged in: %v, want still throttled", err)
	}
	if e := eventOf(t, f, m.ID, EventPasswordVerified); e.DeviceID != "dev-known" {
		t.Errorf("the known device's login was recorded as %+v", e)
	}
}

// TestKnownDeviceOwnBudget: a known device's failures count against its
// own, smaller budget with the member's delays, not against the member;
// its lock ends like the member's would, and a success clears its count.
func TestKnownDeviceOwnBudget(t *testing.T) {
	f, m := budgetFixture(t, 3)
	for i := range 3 {
		if err := f.loginFrom(t, "dev-known", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if err := f.loginFrom(t, "dev-known", goodPassword); throttledFor(err) != time.Minute {
		t.Fatalf("right password after 3 failures of the known device: %v, want throttled for 1m", err)
	}
	d := f.device(t, m.ID, "dev-known")
	if d.FailedLogins != 3 || !d.LockedUntil.Equal(f.clock.Now().Add(time.Minute)) {
		t.Errorf("device record: %d failures, locked until %v", d.FailedLogins, d.LockedUntil)
	}
	if got := f.member(t, m.ID); got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("the device's failures reached the member: %d, locked until %v", got.FailedLogins, got.LockedUntil)
	}
	if err := f.loginFrom(t, "", goodPassword); err != nil {
		t.Errorf("another browser of the member: %v", err)
	}
	// The next failure after the lock doubles the delay, as for members.
	f.clock.Advance(time.Minute)
	if err := f.loginFrom(t, "dev-known", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("after the lock: %v", err)
	}
	if err := f.loginFrom(t, "dev-known", goodPassword); throttledFor(err) != 2*time.Minute {
		t.Fatalf("4th failure: %v, want throttled for 2m", err)
	}
	f.clock.Advance(2 * time.Minute)
	if err := f.loginFrom(t, "dev-known", goodPassword); err != nil {
		t.Fatalf("right password once the device's lock ran out: %v", err)
	}
	if d := f.device(t, m.ID, "dev-known"); d.FailedLogins != 0 || !d.LockedUntil.IsZero() || !d.LastFailedLogin.IsZero() {
		t.Errorf("after success the device keeps %d failures, lock %v", d.FailedLogins, d.LockedUntil)
	}
	scopes := map[string]int{}
	for _, e := range f.events(t, m.ID) {
		if e.Type == EventLoginFailed {
			scopes[e.DeviceID+"/"+e.Reason+"/"+e.Detail["scope"]]++
		}
	}
	if scopes["dev-known/bad_credentials/"] != 4 || scopes["dev-known/throttled/device"] != 2 {
		t.Errorf("failure events: %v", scopes)
	}
}

// TestKnownDeviceBudgetOff: with KnownDeviceMaxFailures 0 every device
// counts against the member, as before the device budget existed.
func TestKnownDeviceBudgetOff(t *testing.T) {
	f, m := budgetFixture(t, 0)
	for range 5 {
		_ = f.loginFrom(t, "dev-known", "wrong-Pass-1")
	}
	if err := f.loginFrom(t, "dev-known", goodPassword); throttledFor(err) == 0 {
		t.Errorf("known device with the budget off: %v, want throttled", err)
	}
	if got := f.member(t, m.ID).FailedLogins; got != 5 {
		t.Errorf("member failures %d, want 5", got)
	}
	if d := f.device(t, m.ID, "dev-known"); d.FailedLogins != 0 {
		t.Errorf("device failures %d, want 0", d.FailedLogins)
	}
}

// TestKnownDeviceConcurrentCannotSlipPast: guesses sent at once from a
// known device are checked against its budget as the member's are: never
// more than the budget. A failure being written is briefly counted both in
// its record and in flight, so a burst may check fewer (the count errs on
// the side of refusing); guesses sent one by one afterwards bring the
// total to exactly the budget, never past it.
func TestKnownDeviceConcurrentCannotSlipPast(t *testing.T) {
	f, m := budgetFixture(t, 3)
	var checked atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := f.loginFrom(t, "dev-known", "wrong-Pass-1"); throttledFor(err) == 0 {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	burst := checked.Load()
	if burst < 1 || burst > 3 {
		t.Fatalf("%d of 20 parallel guesses from the known device were checked, want 1 to 3", burst)
	}
	if got := f.device(t, m.ID, "dev-known").FailedLogins; got != int(burst) {
		t.Errorf("device failures %d after %d checked guesses", got, burst)
	}
	for range 5 {
		if err := f.loginFrom(t, "dev-known", "wrong-Pass-1"); throttledFor(err) == 0 {
			checked.Add(1)
		}
	}
	if n := checked.Load(); n != 3 {
		t.Errorf("%d guesses from the known device were checked in all, want exactly 3", n)
	}
	if got := f.device(t, m.ID, "dev-known").FailedLogins; got != 3 {
		t.Errorf("device failures %d, want 3", got)
	}
	if n := stillInFlight(t, f.store, m.ID, "dev-known", f.clock.Now()); n != 0 {
		t.Errorf("%d attempts still in flight on the device", n)
	}
}

// TestFailureOfForgottenDevice: a device signed out while its attempt ran
// is no longer known; the failure counts against the member instead of
// being lost.
func TestFailureOfForgottenDevice(t *testing.T) {
	f, m := budgetFixture(t, 3)
	if err := f.store.DeleteDevice(t.Context(), m.ID, "dev-known"); err != nil {
		t.Fatal(err)
	}
	e := storage.Event{Type: EventLoginFailed, MemberID: m.ID, DeviceID: "dev-known", Reason: ReasonBadCredentials}
	if err := f.svc.countFailure(t.Context(), budget{member: m.ID, device: "dev-known"}, f.clock.Now(), e); err != nil {
		t.Fatal(err)
	}
	if got := f.member(t, m.ID).FailedLogins; got != 1 {
		t.Errorf("member failures %d, want 1", got)
	}
	if e := eventOf(t, f, m.ID, EventLoginFailed); e.DeviceID != "" {
		t.Errorf("event %+v, want login.failed without the forgotten device", e)
	}
}

// eventOf is the member's one event of type typ (the test clock stands
// still, so events of one instant have no order).
func eventOf(t *testing.T, f *fixture, memberID, typ string) storage.Event {
	t.Helper()
	var found []storage.Event
	for _, e := range f.events(t, memberID) {
		if e.Type == typ {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s events, want 1", len(found), typ)
	}
	return found[0]
}
