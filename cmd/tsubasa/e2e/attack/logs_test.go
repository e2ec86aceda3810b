package attack

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// TestAttackSecretsInTheServerLog: an attacker who reads the server's log
// (a log shipper, a support ticket with a pasted excerpt, a misconfigured
// collector) learns no credential from it. One member logs in with a wrong
// and then the right password, a one-time password by mail, gets a code,
// tokens and a refreshed pair; a backend gets a client-credentials token;
// every one of those values is then looked for in everything the server
// wrote at log level debug, the most talkative.
func TestAttackSecretsInTheServerLog(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: "otp:\n  on_login: always\n"})
	const webSecret, backendSecret, wrongPassword = "web-secret-0123456789", "backend-secret-0123456789", "Wrong-Guess-2026"
	rp := e2e.NewRP(t, s, "web", webSecret)
	b := e2e.NewBrowser(t, s)

	f := e2e.NewFlow()
	p := b.Get(t, rp.AuthURL(f))
	reqID := p.AuthRequestID(t)
	if res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {reqID}, "member_number": {e2e.MemberNumber}, "password": {wrongPassword}}); res.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", res.Status)
	}
	otpPage := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {reqID}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if otpPage.URL.Path != "/login/otp" {
		t.Fatalf("after the password: %d at %s, want the code page", otpPage.Status, otpPage.URL)
	}
	_, otp := e2e.MailCode(t, smtp, 1)
	cb := e2e.Callback(t, b.Post(t, otpPage.URL, "/login/otp", url.Values{"authRequestID": {reqID}, "otp": {otp}}))
	code := cb.Query().Get("code")
	tok, _ := e2e.MustExchange(t, rp, f, cb)
	idToken, _ := tok.Extra("id_token").(string)
	next, err := e2e.Refresh(t, rp, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	cc, err := (&clientcredentials.Config{ClientID: "backend", ClientSecret: backendSecret,
		TokenURL: rp.Provider.Endpoint().TokenURL, Scopes: []string{"telephone"}}).Token(t.Context())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	issuer, _ := url.Parse(s.Issuer)
	secrets := map[string]string{
		"the password": e2e.MemberPass, "a wrong password": wrongPassword, "the one-time password": otp,
		"the authorization code": code, "the PKCE verifier": f.Verifier,
		"the access token": tok.AccessToken, "the refresh token": tok.RefreshToken, "the ID token": idToken,
		"the rotated access token": next.AccessToken, "the rotated refresh token": next.RefreshToken,
		"a client secret": webSecret, "another client secret": backendSecret, "a client-credentials token": cc.AccessToken,
	}
	for _, c := range b.Jar.Cookies(issuer) {
		secrets["cookie "+c.Name] = c.Value
	}
	out := s.Output()
	if !strings.Contains(out, "login") {
		t.Fatalf("the server log holds nothing about the login; is it logging at all?\n%s", out)
	}
	for what, v := range secrets {
		if len(v) < 6 {
			t.Fatalf("%s is %d characters: too short to look for", what, len(v))
		}
		if inLog(out, v) {
			t.Errorf("%s appears in the server log", what)
		}
	}
}

// inLog reports whether v appears in the log as a value of its own. Short
// values (a 6-digit code) must stand apart from letters and digits around
// them, or any request id that happens to hold the digits would match.
func inLog(out, v string) bool {
	if len(v) >= 16 {
		return strings.Contains(out, v)
	}
	return regexp.MustCompile(`(^|[^0-9A-Za-z])` + regexp.QuoteMeta(v) + `($|[^0-9A-Za-z])`).MatchString(out)
}
