package loginui

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/acr"
	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/provider/otp"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

type otpFixture struct {
	st   *bolt.Store
	srv  *httptest.Server
	ui   *UI
	mail *notify.OutboxMailer
	m    storage.Member
}

// newOTPFixture serves a UI with the otp feature (on_login never), one
// member with a verified email and no phone, and a test page behind the
// passkey gate at /account/gated.
func newOTPFixture(t *testing.T) *otpFixture {
	t.Helper()
	st := bolttest.Open(t, bolt.Options{})
	members, m := newMembers(t, st, member.NewMember{Number: testNumber, Password: testPass, FamilyName: "空野",
		Email: "hanako@example.com", Country: "JP", Verified: true})
	r, err := notify.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	mail := notify.NewOutboxMailer(0, nil)
	svc, err := otp.NewService(st, mail, notify.NewOutboxSMS(0, nil), r, otp.Options{HMACKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := New(Options{
		Store: st, Members: members, CookieKey: make([]byte, 32), SessionTTL: time.Hour, IdleTTL: time.Hour,
		StepUpMaxAge: 10 * time.Minute,
		Callback:     func(context.Context, string) string { return "/done" },
		Logger:       slog.New(slog.DiscardHandler),
		Features:     []Feature{OTP(OTPOptions{Service: svc, OnLogin: OTPOnLoginNever, SMSCountries: []string{"JP"}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	ui.handle("/account/gated", func(w http.ResponseWriter, r *http.Request) {
		_, m, ok := ui.requireMember(w, r)
		if !ok || !ui.requireOTP(w, r, m, otp.PurposePasskey, strings.Split(r.URL.Query().Get("via"), ",")) {
			return
		}
		_, _ = io.WriteString(w, "gate passed")
	})
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	return &otpFixture{st: st, srv: srv, ui: ui, mail: mail, m: m}
}

type fetched struct {
	status int
	url    *url.URL
	body   string
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values, header ...string) fetched {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(form.Encode()))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, resp.Request.URL, string(b)}
}

var codeRe = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// TestRequireOTPGate: the gate sends the member to a code by an accepted
// channel and back to the page; SMS-only explains how to get a mobile
// number; a script's request gets JSON; the return path stays local.
func TestRequireOTPGate(t *testing.T) {
	f := newOTPFixture(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	login := fetch(t, c, http.MethodGet, f.srv.URL+"/account", nil)
	home := fetch(t, c, http.MethodPost, f.srv.URL+"/login", url.Values{"authRequestID": {login.url.Query().Get("authRequestID")},
		"member_number": {testNumber}, "password": {testPass}})
	if home.url.Path != "/account" || home.status != http.StatusOK {
		t.Fatalf("login ended %d at %s", home.status, home.url)
	}

	sms := fetch(t, c, http.MethodGet, f.srv.URL+"/account/gated?via=sms", nil)
	if sms.url.Path != gatePath || strings.Contains(sms.body, `name="otp"`) || !strings.Contains(sms.body, `href="/account/contacts"`) {
		t.Fatalf("SMS-only gate without a mobile number: %d at %s\n%s", sms.status, sms.url, sms.body)
	}
	if n := len(f.mail.List()); n != 0 {
		t.Errorf("%d mails sent for an SMS-only gate", n)
	}

	js := fetch(t, c, http.MethodPost, f.srv.URL+"/account/gated?via=email", url.Values{}, "Sec-Fetch-Mode", "cors")
	var answer struct{ Error, Location string }
	if err := json.Unmarshal([]byte(js.body), &answer); err != nil || js.status != http.StatusUnauthorized || answer.Error != "otp_required" ||
		!strings.HasPrefix(answer.Location, gatePath+"?") {
		t.Fatalf("script request: %d %q", js.status, js.body)
	}

	entry := fetch(t, c, http.MethodGet, f.srv.URL+"/account/gated?via=email", nil)
	if entry.url.Path != gatePath || !strings.Contains(entry.body, `autocomplete="one-time-code"`) {
		t.Fatalf("gate page: %d at %s\n%s", entry.status, entry.url, entry.body)
	}
	msgs := f.mail.List()
	if len(msgs) != 1 || msgs[0].To != "hanako@example.com" {
		t.Fatalf("gate mail: %+v", msgs)
	}
	code := codeRe.FindStringSubmatch(msgs[0].Body)[1]
	q := entry.url.Query()
	form := url.Values{"purpose": q["purpose"], "via": q["via"], "return": {"https://evil.example/account"}, "otp": {code}}
	done := fetch(t, c, http.MethodPost, f.srv.URL+gatePath, form)
	if done.url.Path != "/account" {
		t.Errorf("a foreign return address was followed: ended at %s", done.url)
	}
	if again := fetch(t, c, http.MethodGet, f.srv.URL+"/account/gated?via=email", nil); again.body != "gate passed" {
		t.Errorf("after the code the gate still stops: %d at %s", again.status, again.url)
	}
	if sms := fetch(t, c, http.MethodGet, f.srv.URL+"/account/gated?via=sms", nil); sms.body == "gate passed" {
		t.Error("a code by email passed an SMS-only gate")
	}
}

// TestOTPNeeded: when the login's code step runs.
func TestOTPNeeded(t *testing.T) {
	f := newOTPFixture(t)
	m, _ := f.st.MemberByID(t.Context(), f.m.ID)
	none := m
	none.Email, none.EmailVerified = "", false
	r := httptest.NewRequest(http.MethodGet, "/login/otp", nil)
	tests := []struct {
		name    string
		onLogin string
		st      flowState
		acr     []string
		want    bool
	}{
		{"never", OTPOnLoginNever, flowState{Member: m, ACR: acr.Password}, nil, false},
		{"always", OTPOnLoginAlways, flowState{Member: m, ACR: acr.Password}, nil, true},
		{"always, no channel", OTPOnLoginAlways, flowState{Member: none, ACR: acr.Password}, nil, false},
		{"new_device without risk", OTPOnLoginNewDevice, flowState{Member: m, ACR: acr.Password}, nil, false},
		{"rp asks otp", OTPOnLoginNever, flowState{Member: m, ACR: acr.Password}, []string{acr.OTP}, true},
		{"rp asks otp, no channel", OTPOnLoginNever, flowState{Member: none, ACR: acr.Password}, []string{acr.OTP}, true},
		{"rp asks otp, step-up", OTPOnLoginNever, flowState{Member: m, ACR: acr.Password, StepUp: true}, []string{acr.OTP}, true},
		{"step-up for phr only", OTPOnLoginAlways, flowState{Member: m, ACR: acr.Password, StepUp: true}, []string{acr.PhishingResistant}, false},
		{"already given", OTPOnLoginAlways, flowState{Member: m, ACR: acr.OTP, AMR: []string{"pwd", "otp"}}, []string{acr.OTP}, false},
		{"passkey", OTPOnLoginAlways, flowState{Member: m, ACR: acr.PhishingResistant, AMR: []string{"hwk"}}, []string{acr.OTP}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ui.otp.OnLogin = tt.onLogin
			got, err := f.ui.otpNeeded(t.Context(), r, tt.st, storage.AuthRequest{ACRValues: tt.acr})
			if err != nil || got != tt.want {
				t.Errorf("otpNeeded = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestCodeInput: the grid's choices, or the text field when filled.
func TestCodeInput(t *testing.T) {
	post := func(v url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	if got, err := codeInput(post(url.Values{"p1": {"3"}, "p2": {"17"}, "p3": {"5"}, "p4": {"29"}}), otp.FormatPictogram, 4); err != nil || got != "3.17.5.29" {
		t.Errorf("grid: %q, %v", got, err)
	}
	if _, err := codeInput(post(url.Values{"p1": {"3"}, "p2": {"17"}}), otp.FormatPictogram, 4); err == nil {
		t.Error("an incomplete grid was accepted")
	}
	if got, err := codeInput(post(url.Values{"p1": {"3"}, "otp": {"apple cat star car"}}), otp.FormatPictogram, 4); err != nil || got != "0.6.16.19" {
		t.Errorf("text fallback: %q, %v", got, err)
	}
	if got, _ := codeInput(post(url.Values{"otp": {" 123 456 "}}), otp.FormatDigits, 6); got != "123 456" {
		t.Errorf("digits: %q", got)
	}
}
