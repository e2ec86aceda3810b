package otp

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
)

func TestIssueAndVerify(t *testing.T) {
	pictogram := func(o *Options) { o.Formats = map[string]string{PurposeLogin: FormatPictogram} }
	for _, tc := range []struct {
		name       string
		tweak      func(*Options)
		channel    string
		locale     string
		wantFormat string
		wantLen    int
		wantMasked string
		wantInMsg  string
	}{
		{"email digits ja", nil, ChannelEmail, "ja", FormatDigits, 6, "h***@example.com", "ワンタイムパスワード"},
		{"email digits en", nil, ChannelEmail, "en", FormatDigits, 6, "h***@example.com", "one-time password"},
		{"email pictograms ja", pictogram, ChannelEmail, "ja", FormatPictogram, 4, "h***@example.com", "絵文字"},
		{"email pictograms en", pictogram, ChannelEmail, "en", FormatPictogram, 4, "h***@example.com", "pictograms"},
		{"sms digits ja", nil, ChannelSMS, "ja", FormatDigits, 6, "+81 90-****-5678", "認証コード"},
		{"sms digits en", nil, ChannelSMS, "en", FormatDigits, 6, "+81 90-****-5678", "Never share it"},
		{"sms pictograms ja", pictogram, ChannelSMS, "ja", FormatPictogram, 4, "+81 90-****-5678", "（10分間有効）"},
		{"sms pictograms en", pictogram, ChannelSMS, "en", FormatPictogram, 4, "+81 90-****-5678", "(valid 10 min)"},
		{"email digits zh-TW", nil, ChannelEmail, "zh-TW", FormatDigits, 6, "h***@example.com", "一次性密碼"},
		{"email digits ko", nil, ChannelEmail, "ko-KR", FormatDigits, 6, "h***@example.com", "일회용 비밀번호"},
		{"sms digits zh-Hans", nil, ChannelSMS, "zh-CN", FormatDigits, 6, "+81 90-****-5678", "（10分钟内有效）"},
		{"sms digits ko", nil, ChannelSMS, "ko", FormatDigits, 6, "+81 90-****-5678", "(10분간 유효)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, tc.tweak)
			ch := fx.issue(t, IssueRequest{Channel: tc.channel, Locale: tc.locale, IP: "192.0.2.1"})
			if ch.Format != tc.wantFormat || ch.Length != tc.wantLen || ch.MaskedDestination != tc.wantMasked ||
				ch.Channel != tc.channel || ch.Purpose != PurposeLogin || !ch.ExpiresAt.Equal(fx.clock.Now().Add(10*time.Minute)) {
				t.Fatalf("challenge = %+v", ch)
			}
			var code, body string
			if tc.channel == ChannelEmail {
				m := fx.lastMail(t, 1)
				if len(m.To) != 1 || m.To[0] != "hanako@example.com" {
					t.Fatalf("mail to %v", m.To)
				}
				body = m.Text + m.HTML + m.Subject
				code = fx.codeFromMail(t)
			} else {
				reqs := fx.sms.Delivered()
				if len(reqs) != 1 || reqs[0].To != "+819012345678" {
					t.Fatalf("sms = %+v", reqs)
				}
				body = reqs[0].Body
				code = fx.codeFromSMS(t)
			}
			if !strings.Contains(body, tc.wantInMsg) {
				t.Fatalf("message lacks %q:\n%s", tc.wantInMsg, body)
			}
			if tc.wantFormat == FormatPictogram && strings.Count(code, ".") != 3 {
				t.Fatalf("pictogram code %q", code)
			}
			fx.clock.Advance(30 * time.Second) // events of one instant have no order
			got, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, "192.0.2.1")
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !got.Consumed || got.Channel != tc.channel || got.ID != ch.ID {
				t.Fatalf("verified record = %+v", got)
			}
			types := []string{}
			for _, e := range events(t, fx, "m-hanako") {
				types = append(types, e.Type+"/"+e.Method)
				if e.Detail["purpose"] != PurposeLogin {
					t.Fatalf("event detail = %v", e.Detail)
				}
			}
			want := []string{EventVerified + "/" + tc.channel, EventSent + "/" + tc.channel}
			if strings.Join(types, ",") != strings.Join(want, ",") {
				t.Fatalf("events = %v, want %v", types, want)
			}
		})
	}
}

func TestCodeIsBoundToPurpose(t *testing.T) {
	fx := newFixture(t, nil)
	fx.issue(t, IssueRequest{Purpose: PurposeStepUp})
	code := fx.codeFromMail(t)
	fx.clock.Advance(2 * time.Minute)
	fx.issue(t, IssueRequest{Purpose: PurposeReset})
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeReset, code, "")
	var ice *InvalidCodeError
	if !errors.As(err, &ice) || ice.Remaining != 4 {
		t.Fatalf("step-up code for reset: %v", err)
	}
	if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeStepUp, code, ""); err != nil {
		t.Fatalf("step-up code for step-up: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	for _, tc := range []struct {
		after time.Duration
		want  error
	}{
		{10*time.Minute - time.Second, nil},
		{10 * time.Minute, ErrExpired},
		{time.Hour, ErrExpired},
	} {
		t.Run(tc.after.String(), func(t *testing.T) {
			fx := newFixture(t, nil)
			fx.issue(t, IssueRequest{})
			code := fx.codeFromMail(t)
			fx.clock.Advance(tc.after)
			if tc.want != nil {
				if _, err := fx.svc.Current(t.Context(), "m-hanako", PurposeLogin); !errors.Is(err, tc.want) {
					t.Fatalf("Current: %v", err)
				}
			}
			_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, "")
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("Verify after %v: %v, want %v", tc.after, err, tc.want)
			}
		})
	}
}

func TestConfiguredTTL(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.TTL = 3 * time.Minute })
	ch := fx.issue(t, IssueRequest{Locale: "en"})
	if !ch.ExpiresAt.Equal(fx.clock.Now().Add(3 * time.Minute)) {
		t.Fatalf("expires %v", ch.ExpiresAt)
	}
	if m := fx.lastMail(t, 1); !strings.Contains(m.Text, "Valid for 3 minutes") {
		t.Fatalf("mail:\n%s", m.Text)
	}
	code := fx.codeFromMail(t)
	fx.clock.Advance(3 * time.Minute)
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, "")
	wantErr(t, err, ErrExpired)
}

func TestSupersession(t *testing.T) {
	fx := newFixture(t, nil)
	first := fx.issue(t, IssueRequest{})
	oldCode := fx.codeFromMail(t)
	fx.clock.Advance(time.Minute)
	second := fx.issue(t, IssueRequest{})
	newCode := fx.codeFromMail(t)
	if first.ID == second.ID {
		t.Fatal("same challenge id")
	}
	if oldCode == newCode {
		t.Skip("the two random codes happen to be equal")
	}
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, oldCode, "")
	var ice *InvalidCodeError
	if !errors.As(err, &ice) {
		t.Fatalf("old code: %v, want InvalidCodeError", err)
	}
	got, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, newCode, "")
	if err != nil || got.ID != second.ID {
		t.Fatalf("new code: %+v, %v", got, err)
	}
}

func TestSingleUse(t *testing.T) {
	fx := newFixture(t, nil)
	fx.issue(t, IssueRequest{})
	code := fx.codeFromMail(t)
	if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, ""); err != nil {
		t.Fatal(err)
	}
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, "")
	wantErr(t, err, ErrConsumed)
	wantErr(t, err, storage.ErrConsumed)
	ch, err := fx.svc.Current(t.Context(), "m-hanako", PurposeLogin)
	if !errors.Is(err, ErrConsumed) || ch.MaskedDestination != "h***@example.com" {
		t.Fatalf("Current after use: %+v, %v", ch, err)
	}
}

func TestConcurrentVerifyHasOneWinner(t *testing.T) {
	fx := newFixture(t, nil)
	fx.issue(t, IssueRequest{})
	code := fx.codeFromMail(t)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, "")
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrConsumed):
			t.Errorf("loser got %v, want ErrConsumed", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d winners, want 1", wins)
	}
}

func TestAttemptLimit(t *testing.T) {
	fx := newFixture(t, nil)
	fx.issue(t, IssueRequest{IP: "192.0.2.9"})
	code := fx.codeFromMail(t)
	bad := wrong(code)
	for want := 4; want >= 1; want-- {
		_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, bad, "192.0.2.9")
		var ice *InvalidCodeError
		if !errors.As(err, &ice) || ice.Remaining != want || ice.Malformed {
			t.Fatalf("wrong entry: %v, want %d left", err, want)
		}
	}
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, bad, "192.0.2.9")
	wantErr(t, err, ErrTooManyAttempts)
	// The right code no longer helps, and the challenge says why.
	_, err = fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, "192.0.2.9")
	wantErr(t, err, ErrTooManyAttempts)
	if _, err := fx.svc.Current(t.Context(), "m-hanako", PurposeLogin); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("Current: %v", err)
	}
	var locked int
	reasons := map[string]int{}
	for _, e := range events(t, fx, "m-hanako") {
		if e.Type == EventFailed {
			reasons[e.Reason]++
		}
		if e.Type == EventLocked {
			locked++
			if e.IP != "192.0.2.9" || e.Method != ChannelEmail || e.Reason != "too_many_attempts" {
				t.Fatalf("locked event = %+v", e)
			}
		}
	}
	if locked != 1 || reasons["invalid_code"] != 4 || reasons["too_many_attempts"] != 1 || len(reasons) != 2 {
		t.Fatalf("%d otp.locked events, otp.failed reasons %v", locked, reasons)
	}
	// A new code after the interval starts afresh.
	fx.clock.Advance(time.Minute)
	fx.issue(t, IssueRequest{})
	if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, fx.codeFromMail(t), ""); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentWrongEntriesAllCount(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.MaxAttempts = 5 })
	fx.issue(t, IssueRequest{})
	bad := wrong(fx.codeFromMail(t))
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, bad, "") })
	}
	wg.Wait()
	var wrongs, ended int
	for _, err := range errs {
		var ice *InvalidCodeError
		switch {
		case errors.As(err, &ice):
			wrongs++
		case errors.Is(err, ErrTooManyAttempts):
			ended++
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	if wrongs != 4 || ended != n-4 {
		t.Fatalf("%d counted wrong, %d ended; want 4 and %d", wrongs, ended, n-4)
	}
}

func TestMalformedInputNotCounted(t *testing.T) {
	for _, tc := range []struct {
		name, format, input string
	}{
		{"empty", FormatDigits, ""},
		{"five digits", FormatDigits, "12345"},
		{"letters", FormatDigits, "12345a"},
		{"seven digits", FormatDigits, "1234567"},
		{"three pictograms", FormatPictogram, "1.2.3"},
		{"unknown word", FormatPictogram, "りんご ねこ いぬ ドラゴン"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, func(o *Options) { o.Formats = map[string]string{PurposeLogin: tc.format} })
			fx.issue(t, IssueRequest{})
			code := fx.codeFromMail(t)
			for range 10 {
				_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, tc.input, "")
				var ice *InvalidCodeError
				if !errors.As(err, &ice) || !ice.Malformed || ice.Remaining != 5 {
					t.Fatalf("malformed %q: %v", tc.input, err)
				}
			}
			if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code, ""); err != nil {
				t.Fatalf("right code after malformed entries: %v", err)
			}
		})
	}
}

func TestDigitsInputForms(t *testing.T) {
	for _, form := range []func(string) string{
		func(c string) string { return c },
		func(c string) string { return " " + c[:3] + " " + c[3:] + " " },
		func(c string) string { return c[:3] + "-" + c[3:] },
		func(c string) string { // full width, as typed with a Japanese IME
			return strings.Map(func(r rune) rune { return r - '0' + '０' }, c)
		},
	} {
		fx := newFixture(t, nil)
		fx.issue(t, IssueRequest{})
		code := fx.codeFromMail(t)
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, form(code), ""); err != nil {
			t.Fatalf("%q: %v", form(code), err)
		}
	}
}

func TestNoChallenge(t *testing.T) {
	fx := newFixture(t, nil)
	_, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, "123456", "")
	wantErr(t, err, ErrNoChallenge)
	_, err = fx.svc.Current(t.Context(), "m-hanako", PurposeLogin)
	wantErr(t, err, ErrNoChallenge)
	_, err = fx.svc.Verify(t.Context(), "m-hanako", "login2", "123456", "")
	wantErr(t, err, ErrUnknownPurpose)
}

func TestCurrent(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.Formats = map[string]string{PurposeStepUp: FormatPictogram} })
	issued := fx.issue(t, IssueRequest{Purpose: PurposeStepUp, Channel: ChannelSMS})
	got, err := fx.svc.Current(t.Context(), "m-hanako", PurposeStepUp)
	if err != nil || got != issued {
		t.Fatalf("Current = %+v, %v; want %+v", got, err, issued)
	}
}
