package member

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
)

func TestAuthenticatePassword(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	ctx := t.Context()
	for _, tc := range []struct {
		name, number, secret string
		err                  error
	}{
		{"right", "123-4567", goodPassword, nil},
		{"full-width number", "１２３４５６７", goodPassword, nil},
		{"wrong password", "1234567", "Blue-Crane-43", ErrInvalidCredentials},
		{"unknown member", "7654321", goodPassword, ErrInvalidCredentials},
		{"malformed number", "12345", goodPassword, ErrInvalidCredentials},
		{"PIN never on web by default", "1234567", "246810", ErrPINExpired},
		{"huge secret", "1234567", strings.Repeat("x", 10000), ErrInvalidCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.login(ctx, tc.number, tc.secret)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (res.Member.ID != m.ID || res.Method != MethodPassword || res.MustSetPassword) {
				t.Errorf("result = %+v", res)
			}
		})
	}
	for _, e := range f.events(t, m.ID) {
		if strings.Contains(fmt.Sprint(e), goodPassword) || strings.Contains(fmt.Sprint(e), "246810") {
			t.Errorf("event holds a secret: %+v", e)
		}
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Lockout = LockoutOptions{MaxFailures: 5, Window: 15 * time.Minute, BaseDelay: time.Minute, MaxDelay: 5 * time.Minute}
	})
	m := f.create(t, "1234567")
	ctx := t.Context()
	for i := range 5 {
		if _, err := f.login(ctx, "1234567", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	var te *ThrottledError
	if _, err := f.login(ctx, "1234567", goodPassword); !errors.As(err, &te) || te.RetryAfter != time.Minute {
		t.Fatalf("6th attempt: %v, want throttled for 1m", err)
	}
	if got := f.member(t, m.ID); got.FailedLogins != 5 || !got.LockedUntil.Equal(f.clock.Now().Add(time.Minute)) {
		t.Errorf("record: failures %d, locked until %v", got.FailedLogins, got.LockedUntil)
	}
	// Backoff doubles per further failure and stops at MaxDelay.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		f.clock.Advance(f.member(t, m.ID).LockedUntil.Sub(f.clock.Now()))
		if _, err := f.login(ctx, "1234567", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("after lock: %v", err)
		}
		if _, err := f.login(ctx, "1234567", goodPassword); !errors.As(err, &te) || te.RetryAfter != want {
			t.Fatalf("throttle: %v, want %v", err, want)
		}
	}
	// Success after the lock resets everything.
	f.clock.Advance(5 * time.Minute)
	if _, err := f.login(ctx, "1234567", goodPassword); err != nil {
		t.Fatal(err)
	}
	if got := f.member(t, m.ID); got.FailedLogins != 0 || !got.LockedUntil.IsZero() || !got.LastFailedLogin.IsZero() {
		t.Errorf("after success: %d %v %v", got.FailedLogins, got.LockedUntil, got.LastFailedLogin)
	}
	// Failures older than the window are forgotten.
	for range 4 {
		_, _ = f.login(ctx, "1234567", "wrong-Pass-1")
	}
	f.clock.Advance(16 * time.Minute)
	_, _ = f.login(ctx, "1234567", "wrong-Pass-1")
	if got := f.member(t, m.ID); got.FailedLogins != 1 {
		t.Errorf("failures after window = %d, want 1", got.FailedLogins)
	}
	reasons := map[string]int{}
	for _, e := range f.events(t, m.ID) {
		reasons[e.Type+"/"+e.Reason]++
	}
	if reasons["login.failed/throttled"] != 5 || reasons["login.failed/bad_credentials"] != 14 || reasons["login.password_verified/"] != 1 {
		t.Errorf("events: %v", reasons)
	}
}

func TestLockoutConcurrentFailuresCounted(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Lockout.MaxFailures = 100 })
	m := f.create(t, "1234567")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := f.login(t.Context(), "1234567", "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("err = %v", err)
			}
		})
	}
	wg.Wait()
	if got := f.member(t, m.ID).FailedLogins; got != 20 {
		t.Errorf("FailedLogins = %d, want 20", got)
	}
}

func TestLockoutConcurrentCannotSlipPast(t *testing.T) {
	f := newFixture(t, nil) // 5 failures
	f.create(t, "1234567")
	var mu sync.Mutex
	checked := 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := f.login(t.Context(), "1234567", "wrong-Pass-1")
			var te *ThrottledError
			if !errors.As(err, &te) {
				mu.Lock()
				checked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if checked != 5 {
		t.Errorf("%d of 20 parallel guesses were checked, want exactly 5", checked)
	}
}

func TestUnknownMemberThrottledAlike(t *testing.T) {
	lock := LockoutOptions{MaxFailures: 3, Window: time.Hour, BaseDelay: time.Minute, MaxDelay: time.Hour}
	f := newFixture(t, func(o *Options) { o.Lockout = lock })
	f.create(t, "1234567")
	ctx := t.Context()
	trace := func(number string) []string {
		var out []string
		for range 6 {
			_, err := f.login(ctx, number, "wrong-Pass-1")
			out = append(out, fmt.Sprint(err))
			f.clock.Advance(10 * time.Second)
		}
		return out
	}
	known, unknown := trace("1234567"), trace("7654321")
	if fmt.Sprint(known) != fmt.Sprint(unknown) {
		t.Errorf("known and unknown members answer differently:\n%q\n%q", known, unknown)
	}
	if !strings.Contains(known[3], "too many") {
		t.Errorf("4th attempt not throttled: %q", known)
	}
}

func TestPerIPLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Lockout.PerIPMaxFailures = 3 })
	f.create(t, "1234567")
	ctx := t.Context()
	for i, n := range []string{"1111111", "2222222", "3333333"} {
		if _, err := f.login(ctx, n, "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	var te *ThrottledError
	if _, err := f.login(ctx, "1234567", goodPassword); !errors.As(err, &te) {
		t.Fatalf("4th from the address: %v, want throttled", err)
	}
	other := LoginInput{Number: "1234567", Secret: goodPassword, IP: "198.51.100.7"}
	if _, err := f.svc.Authenticate(ctx, other); err != nil {
		t.Errorf("other address: %v", err)
	}
	f.clock.Advance(16 * time.Minute)
	if _, err := f.login(ctx, "1234567", goodPassword); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// Only failures count against an address: many members behind one address
// (a NAT, a corporate proxy) logging in at the same time are not refused
// because their attempts are in flight together.
func TestPerIPLimitCountsFailuresNotInFlight(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Lockout.PerIPMaxFailures = 3 })
	const n = 24
	numbers := make([]string, n)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("75%05d", i)
		f.create(t, numbers[i])
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range numbers {
		wg.Go(func() { _, errs[i] = f.login(ctx, numbers[i], goodPassword) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent login %d from one address: %v", i, err)
		}
	}
	// Failures still count: three settle the address at its limit.
	for i := range 3 {
		if _, err := f.login(ctx, numbers[i], "wrong-Pass-1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	var te *ThrottledError
	if _, err := f.login(ctx, numbers[5], goodPassword); !errors.As(err, &te) {
		t.Errorf("after 3 failures: %v, want throttled", err)
	}
}

func TestPINLogin(t *testing.T) {
	cutover := time.Date(2021, 10, 20, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, func(o *Options) { o.PINWebCutover = cutover })
	ctx := t.Context()
	pinOnly, err := f.svc.CreateMember(ctx, NewMember{Number: "7000001", PIN: "135790", FamilyNameLatin: "Sato"})
	if err != nil {
		t.Fatal(err)
	}
	if !pinOnly.MustChangePassword {
		t.Error("PIN-only member not marked MustChangePassword")
	}
	withPassword := f.create(t, "7000002") // PIN 246810 and a password

	res, err := f.login(ctx, "7000001", "135790")
	if err != nil || res.Method != MethodPIN || !res.MustSetPassword || res.Member.ID != pinOnly.ID {
		t.Fatalf("PIN before cutover: %+v, %v", res, err)
	}
	if _, err := f.login(ctx, "7000001", "135791"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong PIN before cutover: %v", err)
	}
	if _, err := f.login(ctx, "7000002", "246810"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("PIN of a member who has a password: %v", err)
	}
	if _, err := f.login(ctx, "7000001", "Not-The-PIN-1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("password against PIN-only member: %v", err)
	}

	// The member sets a password; then the password works, MustSetPassword clears.
	if _, err := f.svc.SetPassword(ctx, pinOnly.ID, "Fresh-Start-77", Change{Kind: ChangeAtLogin}); err != nil {
		t.Fatal(err)
	}
	if res, err := f.login(ctx, "7000001", "Fresh-Start-77"); err != nil || res.MustSetPassword || res.Method != MethodPassword {
		t.Errorf("password after migration: %+v, %v", res, err)
	}

	f.clock.Advance(cutover.Sub(f.clock.Now()))
	other, err := f.svc.CreateMember(ctx, NewMember{Number: "7000003", PIN: "111222", FamilyNameLatin: "Ito"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ number, secret string }{
		{"7000003", "111222"}, // right PIN, after cutover
		{"7000003", "999999"}, // wrong PIN
		{"7000002", "246810"}, // member with a password
		{"7999999", "111222"}, // unknown member
		{"12", "111222"},      // malformed number
		{"１２３４５６７", "１１１２２２"}, // full-width secret is not ASCII digits: no PIN
	} {
		_, err := f.login(ctx, tc.number, tc.secret)
		want := ErrPINExpired
		if tc.secret == "１１１２２２" {
			want = ErrInvalidCredentials
		}
		if !errors.Is(err, want) {
			t.Errorf("%s/%s after cutover: %v, want %v", tc.number, tc.secret, err, want)
		}
	}
	reasons := map[string]int{}
	for _, e := range f.events(t, other.ID) {
		reasons[e.Reason]++
	}
	if reasons[ReasonPINExpired] != 2 {
		t.Errorf("events of %s: %v", other.Number, reasons)
	}
	_ = withPassword
}

func TestDisabledMember(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	ctx := t.Context()
	for _, st := range []storage.MemberStatus{storage.MemberDisabled, storage.MemberLocked} {
		if err := f.svc.SetStatus(ctx, m.ID, st); err != nil {
			t.Fatal(err)
		}
		if _, err := f.login(ctx, "1234567", goodPassword); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: %v, want ErrInvalidCredentials", st, err)
		}
	}
	if err := f.svc.SetStatus(ctx, m.ID, "bogus"); !errors.Is(err, ErrStatus) {
		t.Errorf("bogus status: %v", err)
	}
	if err := f.svc.SetStatus(ctx, m.ID, storage.MemberActive); err != nil {
		t.Fatal(err)
	}
	if got := f.member(t, m.ID); got.FailedLogins != 0 {
		t.Errorf("reactivation left %d failures", got.FailedLogins)
	}
	if _, err := f.login(ctx, "1234567", goodPassword); err != nil {
		t.Errorf("active again: %v", err)
	}
	if evs := f.events(t, m.ID); !hasEvent(evs, EventLoginFailed, ReasonDisabled) {
		t.Errorf("no disabled event in %+v", evs)
	}
}

func TestLoginRehash(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	stronger := NewService(f.store, NewHasher(HashOptions{MemoryKiB: 128, Iterations: 1, Parallelism: 1}),
		Options{Now: f.clock.Now})
	if _, err := stronger.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: goodPassword}); err != nil {
		t.Fatal(err)
	}
	got := f.member(t, m.ID)
	if got.PasswordHash == m.PasswordHash || !strings.Contains(got.PasswordHash, "m=128,") {
		t.Errorf("hash not upgraded: %s", got.PasswordHash)
	}
	if _, err := stronger.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: goodPassword}); err != nil {
		t.Errorf("login with the new hash: %v", err)
	}
}

func TestAuthenticateBusy(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	h, entered, release := blockingHasher(1, -1)
	svc := NewService(f.store, h, Options{Now: f.clock.Now})
	done := make(chan error)
	go func() {
		_, err := svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: goodPassword})
		done <- err
	}()
	<-entered
	if _, err := svc.Authenticate(t.Context(), LoginInput{Number: "1234567", Secret: "x"}); !errors.Is(err, ErrBusy) {
		t.Errorf("saturated: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first login: %v", err)
	}
	if got := f.member(t, m.ID); got.FailedLogins != 0 {
		t.Errorf("busy answer counted as a failure: %d", got.FailedLogins)
	}
}

func hasEvent(evs []storage.Event, typ, reason string) bool {
	for _, e := range evs {
		if e.Type == typ && e.Reason == reason {
			return true
		}
	}
	return false
}
