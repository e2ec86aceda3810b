package otp

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

func TestNewServiceValidates(t *testing.T) {
	fx := newFixture(t, nil)
	good := fx.svc.o
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"short key", func(o *Options) { o.HMACKey = []byte("short") }, "HMAC key"},
		{"unknown purpose", func(o *Options) { o.Formats = map[string]string{"signup": FormatDigits} }, `unknown purpose "signup"`},
		{"unknown format", func(o *Options) { o.Formats = map[string]string{PurposeLogin: "emoji"} }, "formats.login"},
		{"negative ttl", func(o *Options) { o.TTL = -time.Minute }, "negative"},
		{"pictograms too short", func(o *Options) { o.PictogramLength = 2 }, "fewer than 1000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.change(&o)
			_, err := NewService(fx.store, fx.svc.mail, fx.svc.sms, fx.svc.render, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewService = %v, want an error about %q", err, tc.want)
			}
		})
	}
	_, err := NewService(nil, nil, nil, nil, good)
	if err == nil || !strings.Contains(err.Error(), "store") || !strings.Contains(err.Error(), "mailer") ||
		!strings.Contains(err.Error(), "renderer") {
		t.Fatalf("every problem at once: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	o := withDefaults(Options{})
	if o.TTL != 10*time.Minute || o.MaxAttempts != 5 || o.ResendPerHour != 10 || o.ResendInterval != time.Minute ||
		o.PictogramLength != 4 || len(o.SMSCountries) != 1 || o.SMSCountries[0] != "JP" {
		t.Fatalf("defaults = %+v", o)
	}
	fx := newFixture(t, func(o *Options) { o.Formats = map[string]string{PurposePasskey: FormatPictogram} })
	for _, p := range Purposes() {
		want := FormatDigits
		if p == PurposePasskey {
			want = FormatPictogram
		}
		if got := fx.svc.Format(p); got != want {
			t.Errorf("Format(%s) = %s, want %s", p, got, want)
		}
	}
}

func TestAMR(t *testing.T) {
	if got := AMR(storage.OTP{Channel: ChannelEmail}); !slices.Equal(got, []string{"otp"}) {
		t.Errorf("email: %v", got)
	}
	if got := AMR(storage.OTP{Channel: ChannelSMS}); !slices.Equal(got, []string{"otp", "sms"}) {
		t.Errorf("sms: %v", got)
	}
}

func TestCatalogKey(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ErrNoChallenge, "otp.error.no_challenge"},
		{fmt.Errorf("wrapped: %w", ErrExpired), "otp.error.expired"},
		{ErrConsumed, "otp.error.consumed"},
		{ErrTooManyAttempts, "otp.error.too_many_attempts"},
		{ErrNoDestination, "otp.error.no_destination"},
		{ErrChannelNotAllowed, "otp.error.channel_not_allowed"},
		{&InvalidCodeError{Remaining: 2}, "otp.error.invalid_code"},
		{&InvalidCodeError{Malformed: true}, "otp.error.malformed"},
		{&ResendWaitError{RetryAfter: time.Second}, "otp.error.resend_wait"},
		{&DeliveryError{Channel: ChannelSMS, Err: errors.New("x")}, "otp.error.delivery"},
		{errors.New("other"), ""},
		{nil, ""},
	} {
		if got := CatalogKey(tc.err); got != tc.want {
			t.Errorf("CatalogKey(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestCodesNeverLogged runs every path that touches a code with debug
// logging on and checks that no code, digits or pictograms, reaches the
// log, an error message or the audit log.
func TestCodesNeverLogged(t *testing.T) {
	fx := newFixture(t, func(o *Options) {
		o.Formats = map[string]string{PurposeStepUp: FormatPictogram}
		o.MaxAttempts = 2
	})
	ctx := t.Context()
	var secrets []string // every code sent, as digits, indices, symbols and words
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	addDigits := func(c string) { secrets = append(secrets, c) }
	addPictograms := func(c string) {
		secrets = append(secrets, c)
		var syms, ja, en []string
		for _, s := range strings.Split(c, ".") {
			var i int
			_, _ = fmt.Sscan(s, &i)
			syms = append(syms, pictograms[i].symbol)
			ja, en = append(ja, pictograms[i].ja), append(en, pictograms[i].en)
		}
		secrets = append(secrets, strings.Join(syms, ""), strings.Join(syms, " "),
			strings.Join(ja, " "), strings.Join(en, " "))
	}

	fx.issue(t, IssueRequest{IP: "192.0.2.1"})
	code := fx.codeFromMail(t)
	addDigits(code)
	_, err := fx.svc.Verify(ctx, "m-hanako", PurposeLogin, wrong(code), "192.0.2.1")
	note(err)
	_, err = fx.svc.Verify(ctx, "m-hanako", PurposeLogin, code, "192.0.2.1")
	note(err)

	fx.issue(t, IssueRequest{Purpose: PurposeStepUp, Channel: ChannelSMS})
	pics := fx.codeFromSMS(t)
	addPictograms(pics)
	for range 2 {
		_, err = fx.svc.Verify(ctx, "m-hanako", PurposeStepUp, wrong(pics), "")
		note(err)
	}
	_, err = fx.svc.Verify(ctx, "m-hanako", PurposeStepUp, pics, "")
	note(err)

	fx.smtp.Stop()
	_, err = fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeReset})
	note(err)
	fx.smtp.Start()
	fx.clock.Advance(time.Minute)
	_, err = fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeReset})
	note(err)
	addDigits(fx.codeFromMail(t))
	_, err = fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeReset})
	note(err)

	c, _ := newCode(FormatDigits, 0)
	addDigits(c.digits)
	errs = append(errs, fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c))

	var audit bytes.Buffer
	for _, e := range events(t, fx, "m-hanako") {
		fmt.Fprintf(&audit, "%+v\n", e)
	}
	logs := fx.logs.String()
	if !strings.Contains(logs, "otp sent") || !strings.Contains(logs, "otp delivery failed") ||
		!strings.Contains(logs, "otp challenge ended") {
		t.Fatalf("expected log lines missing:\n%s", logs)
	}
	for _, secret := range secrets {
		for name, text := range map[string]string{"log": logs, "audit": audit.String(), "errors": strings.Join(errs, "\n")} {
			// A leaked code stands alone; inside a longer digit run (a
			// timestamp, a time-based id) it is a coincidence, not a leak.
			if regexp.MustCompile(`(^|\D)` + regexp.QuoteMeta(secret) + `(\D|$)`).MatchString(text) {
				t.Errorf("code %q found in %s:\n%s", secret, name, text)
			}
		}
	}
}
