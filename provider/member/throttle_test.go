package member

import (
	"testing"
	"time"
)

// TestAddressWindow: an address's failures fill a sliding window that
// keeps only what can decide an answer (the newest PerIPMaxFailures), and
// the wait it answers is until the oldest of those leaves it.
func TestAddressWindow(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Lockout.PerIPMaxFailures, o.Lockout.Window = 2, time.Minute })
	ctx, now := t.Context(), f.clock.Now()
	for i := range 5 { // admitted together, all failed
		if err := f.svc.addressFailed(ctx, "192.0.2.9", now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	th, err := f.store.Throttle(ctx, addressKey("192.0.2.9"), now)
	if err != nil || len(th.Times) != 2 {
		t.Fatalf("window holds %v, %v; want the newest two failures", th.Times, err)
	}
	wait := func(ip string, at time.Time) time.Duration {
		t.Helper()
		d, err := f.svc.addressWait(ctx, ip, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := wait("192.0.2.9", now.Add(time.Second)); d != time.Minute-time.Second+3*time.Millisecond {
		t.Errorf("after five failures: wait %v, want until the fourth leaves", d)
	}
	if d := wait("192.0.2.9", now.Add(time.Minute+3*time.Millisecond)); d != 0 {
		t.Errorf("once the fourth left: wait %v", d)
	}
	if d := wait("192.0.2.10", now); d != 0 {
		t.Errorf("another address: wait %v", d)
	}
	if err := f.svc.addressFailed(ctx, "", now); err != nil {
		t.Fatal(err)
	}
	if d := wait("", now); d != 0 {
		t.Errorf("no address (a command-line caller): wait %v", d)
	}
}
