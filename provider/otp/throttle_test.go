package otp

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

func wantWait(t *testing.T, err error, want time.Duration) {
	t.Helper()
	var rw *ResendWaitError
	if !errors.As(err, &rw) {
		t.Fatalf("error = %v, want ResendWaitError", err)
	}
	if rw.RetryAfter != want {
		t.Fatalf("RetryAfter = %v, want %v", rw.RetryAfter, want)
	}
	if CatalogKey(err) != "otp.error.resend_wait" {
		t.Fatalf("catalog key %q", CatalogKey(err))
	}
}

func TestResendInterval(t *testing.T) {
	fx := newFixture(t, nil)
	ctx := t.Context()
	fx.issue(t, IssueRequest{})
	for _, tc := range []struct {
		advance time.Duration
		wait    time.Duration
	}{
		{0, 60 * time.Second},
		{15 * time.Second, 45 * time.Second},
		{44 * time.Second, time.Second},
	} {
		fx.clock.Advance(tc.advance)
		_, err := fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeLogin})
		wantWait(t, err, tc.wait)
	}
	// Other purposes have their own interval.
	fx.issue(t, IssueRequest{Purpose: PurposeStepUp})
	fx.clock.Advance(time.Second)
	fx.issue(t, IssueRequest{})
	if n := len(fx.smtp.Messages()); n != 3 {
		t.Fatalf("%d mails, want 3", n)
	}
}

func TestResendIntervalSurvivesRestart(t *testing.T) {
	fx := newFixture(t, nil)
	fx.issue(t, IssueRequest{})
	fx.clock.Advance(20 * time.Second)
	// A second Service on the same store (this one restarted, or another
	// replica) sees the stored challenge and the stored interval.
	again, err := NewService(fx.store, fx.svc.mail, fx.svc.sms, fx.svc.render, fx.svc.o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = again.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin})
	wantWait(t, err, 40*time.Second)
}

func TestUsedCodeDoesNotHoldUpTheNext(t *testing.T) {
	fx := newFixture(t, nil)
	fx.issue(t, IssueRequest{})
	if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, fx.codeFromMail(t), ""); err != nil {
		t.Fatal(err)
	}
	fx.clock.Advance(5 * time.Second)
	fx.issue(t, IssueRequest{})
}

func TestHourlyLimitPerMember(t *testing.T) {
	fx := newFixture(t, nil)
	ctx := t.Context()
	// Ten sends a minute apart, from different addresses.
	for i := range 10 {
		fx.issue(t, IssueRequest{IP: fmt.Sprintf("192.0.2.%d", i)})
		fx.clock.Advance(time.Minute)
	}
	// 10 minutes after the first; it leaves the window in 50.
	_, err := fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeLogin, IP: "198.51.100.1"})
	wantWait(t, err, 50*time.Minute)
	// Other purposes count too: the limit is per member.
	_, err = fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeStepUp})
	wantWait(t, err, 50*time.Minute)
	// Another member is not affected.
	other := hanako()
	other.ID = "m-taro"
	fx.issue(t, IssueRequest{Member: other})

	fx.clock.Advance(50*time.Minute - time.Second)
	_, err = fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeLogin})
	wantWait(t, err, time.Second)
	fx.clock.Advance(time.Second)
	fx.issue(t, IssueRequest{})
	// The window slides: the next one frees a minute later.
	fx.clock.Advance(30 * time.Second)
	_, err = fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeStepUp})
	wantWait(t, err, 30*time.Second)
}

func TestHourlyLimitPerIP(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.ResendPerHour = 3 })
	ctx := t.Context()
	for i := range 3 {
		m := hanako()
		m.ID = fmt.Sprintf("m-%d", i)
		fx.issue(t, IssueRequest{Member: m, IP: "203.0.113.7"})
		fx.clock.Advance(10 * time.Second)
	}
	m := hanako()
	m.ID = "m-next"
	_, err := fx.svc.Issue(ctx, IssueRequest{Member: m, Purpose: PurposeLogin, IP: "203.0.113.7"})
	wantWait(t, err, time.Hour-30*time.Second)
	// The same member from another address may go ahead.
	fx.issue(t, IssueRequest{Member: m, IP: "203.0.113.8"})
}

// TestHourlyLimitPerIPv6Network: sends from every address of one IPv6
// /64 share the per-address hour, so rotating through the network sends
// no more than one address; the next /64 and an IPv4 client go ahead.
func TestHourlyLimitPerIPv6Network(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.ResendPerHour = 3 })
	ctx := t.Context()
	member := func(id string) storage.Member { m := hanako(); m.ID = id; return m }
	for i := range 3 {
		fx.issue(t, IssueRequest{Member: member(fmt.Sprintf("m-%d", i)), IP: fmt.Sprintf("2001:db8:1:2::%x", i+1)})
	}
	_, err := fx.svc.Issue(ctx, IssueRequest{Member: member("m-next"), Purpose: PurposeLogin, IP: "2001:db8:1:2:ffff::9"})
	wantWait(t, err, time.Hour)
	fx.issue(t, IssueRequest{Member: member("m-next"), IP: "2001:db8:1:3::1"})
	fx.issue(t, IssueRequest{Member: member("m-v4"), IP: "203.0.113.7"})
}

func TestLongestWaitWins(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.ResendPerHour = 2; o.ResendInterval = 10 * time.Minute })
	fx.issue(t, IssueRequest{})
	fx.clock.Advance(10 * time.Minute)
	fx.issue(t, IssueRequest{})
	fx.clock.Advance(time.Minute)
	// Interval: 9 more minutes; hourly: 49 more minutes.
	_, err := fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin})
	wantWait(t, err, 49*time.Minute)
}

func TestThrottleIgnoresLockedStateButNotItsTime(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.MaxAttempts = 1 })
	fx.issue(t, IssueRequest{})
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, wrong(fx.codeFromMail(t)), "")
	wantErr(t, err, ErrTooManyAttempts)
	// A locked challenge still anchors the interval.
	fx.clock.Advance(10 * time.Second)
	_, err = fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin})
	wantWait(t, err, 50*time.Second)
	var st storage.OTP
	if st, err = fx.store.CurrentOTP(t.Context(), "m-hanako", PurposeLogin); err != nil || !st.Consumed || st.Attempts != 1 {
		t.Fatalf("locked record = %+v, %v", st, err)
	}
}
