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
	th, err := f.store.Throttle(ctx, f.svc.opts.Lockout.addressKey("192.0.2.9"), now)
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

// TestAddressWindowPerIPv6Network: the failures of every address of one
// IPv6 network (LockoutOptions.IPv6Prefix) fill one window, so rotating
// through a /64 buys no guesses; the next /64 and IPv4 clients keep their
// own; at 128 each address is its own again.
func TestAddressWindowPerIPv6Network(t *testing.T) {
	for _, c := range []struct {
		prefix     int
		shared     bool // 2001:db8:1:2::1 and 2001:db8:1:2::ffff share one window
		otherShare bool // 2001:db8:1:3::1 shares it too
	}{
		{0, true, false}, // the default, /64
		{64, true, false},
		{48, true, true},
		{128, false, false},
	} {
		f := newFixture(t, func(o *Options) {
			o.Lockout.PerIPMaxFailures, o.Lockout.Window, o.Lockout.IPv6Prefix = 2, time.Minute, c.prefix
		})
		ctx, now := t.Context(), f.clock.Now()
		for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::1"} {
			if err := f.svc.addressFailed(ctx, ip, now); err != nil {
				t.Fatal(err)
			}
		}
		full := func(ip string) bool {
			d, err := f.svc.addressWait(ctx, ip, now)
			if err != nil {
				t.Fatal(err)
			}
			return d > 0
		}
		if !full("2001:db8:1:2::1") {
			t.Fatalf("/%d: two failures against a limit of 2 left room", c.prefix)
		}
		if got := full("2001:db8:1:2::ffff"); got != c.shared {
			t.Errorf("/%d: another address of the /64 throttled = %v, want %v", c.prefix, got, c.shared)
		}
		if got := full("2001:db8:1:3::1"); got != c.otherShare {
			t.Errorf("/%d: the next /64 throttled = %v, want %v", c.prefix, got, c.otherShare)
		}
		if full("192.0.2.1") || full("::ffff:192.0.2.2") {
			t.Errorf("/%d: IPv4 clients throttled by an IPv6 network's failures", c.prefix)
		}
	}
}
