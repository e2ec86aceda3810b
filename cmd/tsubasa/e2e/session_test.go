package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestSSOPromptNoneMaxAgeAndLogout(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	es := NewRP(t, s, "web-es256", "es-secret-0123456789")
	b := NewBrowser(t, s)

	// prompt=none without a session: login_required back to the client.
	f := NewFlow()
	cb := Callback(t, b.Get(t, rp.AuthURL(f, oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("error") != "login_required" || cb.Query().Get("state") != f.State {
		t.Fatalf("prompt=none without session: %s", cb)
	}

	f = NewFlow()
	tok, idt, err := rp.Exchange(t.Context(), f, Login(t, b, rp.AuthURL(f), MemberNumber, MemberPass))
	if err != nil {
		t.Fatal(err)
	}
	var first idClaims
	_ = idt.Claims(&first)

	// Another client in the same browser: SSO, no page, same session, and
	// /authorize answers with the code itself (no hop through the login
	// page or the callback).
	f2 := NewFlow()
	oneHop := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := oneHop.Get(es.AuthURL(f2, oauth2.SetAuthURLParam("prompt", "none")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, err = resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(cb.String(), s.Issuer+"/rp/callback?") {
		t.Fatalf("SSO at /authorize: %d to %v (%v), want the relying party's redirect URI", resp.StatusCode, cb, err)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("SSO answer without the pages' CSP: %q", csp)
	}
	_, idt2, err := es.Exchange(t.Context(), f2, cb)
	if err != nil {
		t.Fatalf("prompt=none with a session: %v", err)
	}
	var second idClaims
	_ = idt2.Claims(&second)
	if second.SID != first.SID || second.AuthTime != first.AuthTime {
		t.Errorf("SSO login must reuse the session: sid %s/%s auth_time %d/%d", first.SID, second.SID, first.AuthTime, second.AuthTime)
	}

	// prompt=none asking for more than the session proved needs interaction.
	cb = Callback(t, b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("acr_values", "urn:tsubasa:acr:otp"))))
	if e := cb.Query().Get("error"); e != "interaction_required" {
		t.Errorf("prompt=none with a too-weak session: error %q, want interaction_required", e)
	}

	// max_age=0 and prompt=login force the login page again.
	for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "0"), oauth2.SetAuthURLParam("prompt", "login")} {
		p := b.Get(t, rp.AuthURL(NewFlow(), opt))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `autocomplete="current-password"`) {
			t.Errorf("re-authentication not forced: status %d at %s", p.Status, p.URL)
		}
	}

	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("userinfo before logout: %v", err)
	}

	// RP-initiated logout with id_token_hint ends the session.
	raw, _ := tok.Extra("id_token").(string)
	q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {s.Issuer + "/rp/bye"}, "state": {"bye"}}
	var endSession struct {
		URL string `json:"end_session_endpoint"`
	}
	_ = rp.Provider.Claims(&endSession)
	p := b.Get(t, endSession.URL+"?"+q.Encode())
	if !strings.HasPrefix(p.Location, s.Issuer+"/rp/bye") {
		t.Fatalf("end_session did not return to the registered post-logout URI: %d %q", p.Status, p.Location)
	}
	cb = Callback(t, b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("error") != "login_required" {
		t.Errorf("after logout prompt=none must answer login_required, got %s", cb)
	}
	if _, err := Refresh(t, rp, tok.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("tokens of the ended session still refresh: %v", err)
	}
	// Access tokens are not stored: the logout's revocation must still reach them.
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the access token of the ended session still works at userinfo")
	}
}

func TestLoginFailuresAreGeneric(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	var bodies []string
	for _, c := range []struct{ number, password string }{
		{MemberNumber, "Wrong-password-1"}, // wrong password
		{"1111111", MemberPass},            // unknown member
		{"12ab", MemberPass},               // malformed number
	} {
		b := NewBrowser(t, s)
		p := b.Get(t, rp.AuthURL(NewFlow()))
		res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {c.number}, "password": {c.password}})
		if res.Status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", c.number, res.Status)
		}
		i := strings.Index(res.Body, `role="alert"`)
		if i < 0 {
			t.Fatalf("no alert on the failed login page:\n%s", res.Body)
		}
		bodies = append(bodies, res.Body[i:i+200])
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("failure messages differ, which tells members apart:\n%s", strings.Join(bodies, "\n"))
	}
}

func TestAuthorizeRequestRules(t *testing.T) {
	s := Start(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	spa := NewRP(t, s, "spa", "")
	b := NewBrowser(t, s)
	base := rp.OAuth.AuthCodeURL("st", oauth2.SetAuthURLParam("nonce", "n"))

	// An unregistered redirect URI gets an error page, never a redirect.
	bad := strings.Replace(base, url.QueryEscape(s.Issuer+"/rp/callback"), url.QueryEscape("https://evil.example/cb"), 1)
	p := b.Get(t, bad)
	if p.Status != http.StatusBadRequest || p.Location != "" || strings.Contains(p.Body, `href="https://evil.example`) {
		t.Errorf("bad redirect_uri: status %d location %q body %q", p.Status, p.Location, p.Body)
	}
	if !strings.Contains(p.Body, "<code>redirect_uri: https://evil.example/cb</code>") {
		t.Errorf("bad redirect_uri must show the error page naming the URI, got %q", p.Body)
	}
	// The language switcher works on this page too.
	if en := b.Get(t, bad+"&lang=en"); !strings.Contains(en.Body, `lang="en"`) || en.Status != http.StatusBadRequest {
		t.Errorf("language switch on the authorize error page: status %d", en.Status)
	}

	// PKCE plain is refused; a public client without PKCE is refused.
	cases := map[string]string{
		"plain": base + "&code_challenge=abcdefghijklmnopqrstuvwxyz0123456789abcdefg&code_challenge_method=plain",
		"none":  spa.OAuth.AuthCodeURL("st", oauth2.SetAuthURLParam("nonce", "n")),
	}
	for name, u := range cases {
		cb := Callback(t, b.Get(t, u))
		if cb.Query().Get("error") != "invalid_request" {
			t.Errorf("%s: %s, want invalid_request", name, cb)
		}
	}

	// A request object is refused with the standard error.
	cb := Callback(t, b.Get(t, base+"&request=eyJhbGciOiJub25lIn0.e30."))
	if e := cb.Query().Get("error"); e != "request_not_supported" {
		t.Errorf("request object: error %q, want request_not_supported", e)
	}
}

func TestWrongVerifierAndPublicClient(t *testing.T) {
	s := StartWithMember(t, Options{})
	spa := NewRP(t, s, "spa", "")
	b := NewBrowser(t, s)
	f := NewFlow()
	cb := Login(t, b, spa.AuthURL(f), MemberNumber, MemberPass)
	wrong := f
	wrong.Verifier = oauth2.GenerateVerifier()
	if _, _, err := spa.Exchange(t.Context(), wrong, cb); !IsOAuthError(err, "invalid_grant") {
		t.Fatalf("wrong code_verifier: %v, want invalid_grant", err)
	}
	// The public client's own flow works end to end with the right verifier.
	f = NewFlow()
	cb = Callback(t, b.Get(t, spa.AuthURL(f)))
	if _, _, err := spa.Exchange(t.Context(), f, cb); err != nil {
		t.Fatalf("public client with PKCE: %v", err)
	}
}
