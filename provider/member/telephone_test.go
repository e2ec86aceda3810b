package member

import (
	"testing"
	"time"
)

func TestTelephonePIN(t *testing.T) {
	cutover := time.Date(2021, 10, 20, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, func(o *Options) {
		o.PINWebCutover = cutover
		o.TelephoneMaxFailures = 3
		o.TelephoneLockout = 30 * time.Minute
	})
	m := f.create(t, "1234567") // PIN 246810, password goodPassword
	ctx := t.Context()
	step := func(number, pin string, want TelephoneResult) {
		t.Helper()
		got, err := f.svc.VerifyTelephonePIN(ctx, number, pin, "203.0.113.9")
		if err != nil || got != want {
			t.Fatalf("VerifyTelephonePIN(%s, %s) = %q, %v; want %q", number, pin, got, err, want)
		}
	}
	step("1234567", "246810", TelephoneVerified)
	step("１２３－４５６７", "２４６８１０", TelephoneVerified)       // read out and typed full width
	step("1234567", goodPassword, TelephoneNotVerified) // a password never works here
	step("7654321", "246810", TelephoneNotVerified)     // unknown member
	step("12", "246810", TelephoneNotVerified)          // malformed number
	step("1234567", "246811", TelephoneNotVerified)
	step("1234567", "246812", TelephoneLocked) // third wrong PIN in a row locks
	step("1234567", "246810", TelephoneLocked) // right PIN while locked
	if got := f.member(t, m.ID); got.PhoneFailures != 3 || !got.PhoneLockedUntil.Equal(f.clock.Now().Add(30*time.Minute)) {
		t.Errorf("record: %d failures, locked until %v", got.PhoneFailures, got.PhoneLockedUntil)
	}
	// The web is not affected by the telephone lock.
	if _, err := f.login(ctx, "1234567", goodPassword); err != nil {
		t.Errorf("web login during telephone lock: %v", err)
	}
	f.clock.Advance(29 * time.Minute)
	step("1234567", "246810", TelephoneLocked)
	f.clock.Advance(time.Minute)
	// After the lock runs out, and after the web cutover, the PIN works here.
	f.clock.Advance(cutover.Sub(f.clock.Now()))
	step("1234567", "246810", TelephoneVerified)
	if got := f.member(t, m.ID); got.PhoneFailures != 0 || !got.PhoneLockedUntil.IsZero() {
		t.Errorf("after success: %d, %v", got.PhoneFailures, got.PhoneLockedUntil)
	}
	// A lock that ran out starts a fresh count.
	step("1234567", "000000", TelephoneNotVerified)
	step("1234567", "000000", TelephoneNotVerified)
	step("1234567", "000000", TelephoneLocked)
	f.clock.Advance(31 * time.Minute)
	step("1234567", "000000", TelephoneNotVerified)
	evs := f.events(t, m.ID)
	for _, typ := range []string{EventTelephoneVerified, EventTelephoneFailed, EventTelephoneLocked} {
		found := false
		for _, e := range evs {
			found = found || e.Type == typ
		}
		if !found {
			t.Errorf("no %s event", typ)
		}
	}
}
