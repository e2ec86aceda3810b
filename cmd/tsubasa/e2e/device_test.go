package e2e

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/provider/notify/notifytest"
)

// The device grant end to end (RFC 8628): a lounge television runs
// x/oauth2's device flow, polling the token endpoint, while the member's
// phone (a Browser) enters the user code at /device, logs in with the
// password and a mailed one-time password, and approves the device on the
// consent page; go-oidc verifies the ID token the television gets.

// deviceYAML polls every second, so the tests wait seconds, not minutes.
const deviceYAML = "device:\n  interval: 1s\n"

var userCodeRe = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

type pollResult struct {
	tok *oauth2.Token
	err error
}

// pollInBackground runs DeviceAccessToken until it answers.
func pollInBackground(t *testing.T, cfg oauth2.Config, da *oauth2.DeviceAuthResponse) <-chan pollResult {
	ch := make(chan pollResult, 1)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	go func() {
		tok, err := cfg.DeviceAccessToken(ctx, da)
		ch <- pollResult{tok, err}
	}()
	return ch
}

func TestDeviceGrantWithPasswordAndMailedOTP(t *testing.T) {
	e := startOTP(t, "  on_login: always\n", Options{Extra: deviceYAML})
	AddDeviceClient(t, e.s, "lounge-tv", "ラウンジTV")
	rp, cfg := DeviceApp(t, e.s, "lounge-tv", "openid", "profile", "membership", "offline_access")

	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !userCodeRe.MatchString(da.UserCode) || da.VerificationURI != e.s.Issuer+"/device" ||
		da.VerificationURIComplete != e.s.Issuer+"/device?user_code="+da.UserCode || da.Interval != 1 || da.Expiry.IsZero() {
		t.Fatalf("device authorization answer %+v", da)
	}
	polled := pollInBackground(t, cfg, da)

	// The phone: the complete URI only fills the form; the code is typed
	// in lower case without the hyphen, as members do.
	b := NewBrowser(t, e.s)
	form := b.Get(t, da.VerificationURIComplete)
	mustContain(t, "code form", form.Body, `value="`+da.UserCode+`"`, `name="user_code"`)
	typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))
	confirm := b.Post(t, form.URL, "/device", map[string][]string{"user_code": {typed}})
	mustContain(t, "confirmation", confirm.Body, "ラウンジTV", da.UserCode, `action="/device/confirm"`)
	login := b.Post(t, confirm.URL, "/device/confirm", map[string][]string{"user_code": {HiddenValue(t, confirm, "user_code")}})
	if login.URL.Path != "/login" {
		t.Fatalf("after confirming: %d at %s\n%s", login.Status, login.URL, login.Body)
	}
	otpPage := b.Post(t, login.URL, "/login", map[string][]string{"authRequestID": {login.AuthRequestID(t)},
		"member_number": {MemberNumber}, "password": {MemberPass}})
	if otpPage.URL.Path != "/login/otp" {
		t.Fatalf("after the password: %d at %s\n%s", otpPage.Status, otpPage.URL, otpPage.Body)
	}
	_, code := MailCode(t, e.smtp, 1)
	consent := enterCode(t, b, otpPage, code)
	mustContain(t, "consent", consent.Body, "ラウンジTV", "デバイス")
	done := AnswerConsent(t, b, consent, "approve")
	if done.Status != http.StatusOK || !strings.Contains(done.Body, "デバイスに戻って") {
		t.Fatalf("after approving: %d at %s\n%s", done.Status, done.URL, done.Body)
	}

	res := <-polled
	if res.err != nil {
		t.Fatalf("DeviceAccessToken: %v", res.err)
	}
	raw, _ := res.tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c struct {
		idClaims
		Number string `json:"member_number"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != acrOTP || !slices.Contains(c.AMR, "otp") || c.Number != MemberNumber || c.SID == "" || c.AuthTime == 0 {
		t.Errorf("ID token claims %+v, want acr otp, amr with otp, the member number, sid, auth_time", c)
	}
	info, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(res.tok))
	var profile struct {
		Name string `json:"name"`
	}
	if err != nil || info.Subject != idt.Subject || info.Claims(&profile) != nil || !strings.Contains(profile.Name, "花子") {
		t.Errorf("userinfo with the device's access token: %v %+v %+v", err, info, profile)
	}
	if res.tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	if _, err := cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: res.tok.RefreshToken}).Token(); err != nil {
		t.Errorf("refresh: %v", err)
	}
	out := e.s.CLI(t, false, "events", "--member", MemberNumber)
	mustContain(t, "events", out, "device.approved", "login.succeeded", "app.linked")
	// The first approval links the device's app: the app-linked mail names it.
	e.smtp.WaitFor(t, func(m notifytest.ReceivedMail) bool { return strings.Contains(m.Text, "ラウンジTV") }, 20*time.Second)

	// The code is used: the phone is told so, and the device_code is spent.
	p := b.Get(t, e.s.Issuer+"/device")
	again := b.Post(t, p.URL, "/device", map[string][]string{"user_code": {da.UserCode}})
	if again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "すでに使用されています") {
		t.Errorf("the used user code again: %d\n%s", again.Status, again.Body)
	}
	time.Sleep(1100 * time.Millisecond) // one interval: this poll is not slow_down
	if status, body := DevicePoll(t, e.s, "lounge-tv", "", da.DeviceCode); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the redeemed device_code again: %d %v, want invalid_grant", status, body)
	}
}

// TestDeviceGrantDeclined: the member logged in already (SSO) declines on
// the consent page; the device gets access_denied, and the member is told
// the device stays signed out.
func TestDeviceGrantDeclined(t *testing.T) {
	s := StartWithMember(t, Options{Extra: deviceYAML})
	AddDeviceClient(t, s, "seat-screen", "Seat screen")
	_, cfg := DeviceApp(t, s, "seat-screen")
	b := NewBrowser(t, s)
	LoginRP(t, NewRP(t, s, "web", "web-secret-0123456789"), b) // an SSO session on the phone

	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	polled := pollInBackground(t, cfg, da)
	consent := EnterUserCode(t, b, s, da.UserCode)
	denied := AnswerConsent(t, b, consent, "deny")
	if denied.Status != http.StatusOK || !strings.Contains(denied.Body, "許可されませんでした") {
		t.Fatalf("after declining: %d at %s\n%s", denied.Status, denied.URL, denied.Body)
	}
	if res := <-polled; !IsOAuthError(res.err, "access_denied") {
		t.Fatalf("DeviceAccessToken after a decline: %v, want access_denied", res.err)
	}
}

// TestDeviceGrantSlowDown: a device polling sooner than the interval gets
// slow_down with the grown interval, as often as it does; x/oauth2 waiting
// its interval gets authorization_pending meanwhile.
func TestDeviceGrantSlowDown(t *testing.T) {
	s := StartWithMember(t, Options{Extra: deviceYAML})
	AddDeviceClient(t, s, "kiosk", "Airport kiosk")
	_, cfg := DeviceApp(t, s, "kiosk")
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if status, body := DevicePoll(t, s, "kiosk", "", da.DeviceCode); status != http.StatusBadRequest || body["error"] != "authorization_pending" {
		t.Fatalf("a poll after the interval: %d %v, want authorization_pending", status, body)
	}
	for _, wait := range []string{"6 seconds", "11 seconds"} {
		status, body := DevicePoll(t, s, "kiosk", "", da.DeviceCode)
		desc, _ := body["error_description"].(string)
		if status != http.StatusBadRequest || body["error"] != "slow_down" || !strings.Contains(desc, wait) {
			t.Fatalf("an early poll: %d %v, want slow_down asking for %s", status, body, wait)
		}
	}
}
