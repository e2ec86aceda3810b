package attack

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Logout, security review item 6: logging out must be neither too easy (a
// page any site can send the browser to must not end the session) nor
// ineffective (a relying party's logout must end the SSO session and the
// tokens that descend from it, or the next traveller at a shared airport
// kiosk is logged in as the last one). RP-Initiated Logout 1.0 §2–§3.

// member is a browser logged in through the "web" client, with its tokens.
type member struct {
	s    *e2e.Server
	rp   *e2e.RP
	b    *e2e.Browser
	tok  *oauth2.Token
	hint string // the ID token, as an RP sends it in id_token_hint
}

func logIn(t *testing.T, s *e2e.Server) *member {
	t.Helper()
	m := &member{s: s, rp: e2e.NewRP(t, s, "web", "web-secret-0123456789"), b: e2e.NewBrowser(t, s)}
	m.tok = e2e.LoginRP(t, m.rp, m.b)
	m.hint, _ = m.tok.Extra("id_token").(string)
	if m.hint == "" {
		t.Fatal("no ID token")
	}
	return m
}

// ssoAlive reports whether the browser's SSO session still answers
// prompt=none with a code.
func (m *member) ssoAlive(t *testing.T) bool {
	t.Helper()
	cb := e2e.Callback(t, m.b.Get(t, m.rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	return cb.Query().Get("code") != ""
}

// tokensAlive reports whether the access token works at userinfo and the
// refresh token refreshes (rotating it: m keeps the new pair).
func (m *member) tokensAlive(t *testing.T) bool {
	t.Helper()
	if _, err := m.rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(m.tok)); err != nil {
		return false
	}
	next, err := e2e.Refresh(t, m.rp, m.tok.RefreshToken)
	if err != nil {
		return false
	}
	m.tok = next
	return true
}

// assertLoggedIn fails the test unless the session and its tokens survived.
func (m *member) assertLoggedIn(t *testing.T, after string) {
	t.Helper()
	if !m.ssoAlive(t) {
		t.Errorf("%s ended the SSO session", after)
	}
	if !m.tokensAlive(t) {
		t.Errorf("%s revoked the session's tokens", after)
	}
}

// assertLoggedOut fails the test unless the session is gone (the next
// /authorize asks for a password) and its tokens with it.
func (m *member) assertLoggedOut(t *testing.T) {
	t.Helper()
	next := m.b.Get(t, m.rp.AuthURL(e2e.NewFlow()))
	if next.Status != http.StatusOK || !strings.Contains(next.Body, `autocomplete="current-password"`) {
		t.Errorf("after logout the next /authorize did not ask for a login: %d at %s (Location %q)", next.Status, next.URL, next.Location)
	}
	cb := e2e.Callback(t, m.b.Get(t, m.rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if e := cb.Query().Get("error"); e != "login_required" {
		t.Errorf("after logout prompt=none answered %s, want login_required", cb)
	}
	if _, err := e2e.Refresh(t, m.rp, m.tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("the ended session's refresh token: %v, want invalid_grant", err)
	}
	m.s.Settle()
	if _, err := m.rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(m.tok)); err == nil {
		t.Error("the ended session's access token still works at userinfo")
	}
}

// crossSite sends req from the member's browser as a page on another site
// would make the browser send it (Fetch Metadata, Origin for a POST).
func (m *member) crossSite(t *testing.T, req *http.Request, site string) e2e.Page {
	t.Helper()
	req.Header.Set("Sec-Fetch-Site", site)
	req.Header.Set("Referer", "https://evil.example/")
	if req.Method == http.MethodGet {
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Dest", "document")
	} else {
		req.Header.Set("Origin", "https://evil.example")
	}
	resp, err := m.b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return e2e.PageOf(resp)
}

func (m *member) crossSiteGet(t *testing.T, u string) e2e.Page {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	return m.crossSite(t, req, "cross-site")
}

var logoutIDRe = regexp.MustCompile(`name="logout_id" value="([^"]*)"`)

// question asserts p is the logout question and returns its request id.
func question(t *testing.T, p e2e.Page) string {
	t.Helper()
	m := logoutIDRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || p.URL.Path != "/logout" || m == nil || !strings.Contains(p.Body, `value="logout"`) {
		t.Fatalf("want the logout question, got %d at %s (Location %q):\n%s", p.Status, p.URL, p.Location, p.Body)
	}
	return m[1]
}

// LogoutCSRFCrossSiteLoggedOutPage: another site sends the
// browser to /logged-out (a link, an image, a redirect). Its GET used to
// delete the session; now it asks, and nothing ends.
func LogoutCSRFCrossSiteLoggedOutPage(t *testing.T, d e2e.Deployment) {
	m := logIn(t, d.StartWithMember(t, e2e.Options{}))
	p := m.crossSiteGet(t, m.s.Issuer+"/logged-out")
	question(t, p) // still logged in: the page may not say otherwise
	m.assertLoggedIn(t, "a cross-site GET of /logged-out")
}

// LogoutCSRFEndSessionWithoutHint: another site sends the
// browser to /end_session with no id_token_hint (no parameters at all, or
// a client_id alone). Without a hint there is no proof the relying party
// asks for this session: the member is asked, and nothing ends.
func LogoutCSRFEndSessionWithoutHint(t *testing.T, d e2e.Deployment) {
	m := logIn(t, d.StartWithMember(t, e2e.Options{}))
	for _, q := range []string{"", "?client_id=web", "?state=x", "?client_id=web&ui_locales=en"} {
		question(t, m.crossSiteGet(t, m.s.Issuer+"/end_session"+q))
	}
	m.assertLoggedIn(t, "a cross-site GET of /end_session without a hint")
}

// LogoutCSRFCrossSitePostOfQuestion: the member has the question
// open; another site (or a sibling subdomain) posts its form with the
// member's cookies, even knowing the request id. Refused with 403, and the
// session lives on.
func LogoutCSRFCrossSitePostOfQuestion(t *testing.T, d e2e.Deployment) {
	m := logIn(t, d.StartWithMember(t, e2e.Options{}))
	q := url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {m.s.Issuer + "/rp/bye"}, "state": {"s"}}
	id := question(t, m.b.Get(t, m.s.Issuer+"/end_session?"+q.Encode()))
	form := url.Values{"logout_id": {id}, "action": {"logout"}}.Encode()
	for _, site := range []string{"cross-site", "same-site"} {
		p := m.crossSite(t, e2e.NewFormRequest(t.Context(), m.s.Issuer+"/logout", form), site)
		if p.Status != http.StatusForbidden || p.Location != "" {
			t.Errorf("%s POST of the logout question: %d, Location %q; want 403", site, p.Status, p.Location)
		}
	}
	m.assertLoggedIn(t, "a cross-site POST of the logout question")
}

// KioskLogoutWithoutHint: the finding itself. A relying party
// logs the traveller out with client_id and post_logout_redirect_uri but
// no id_token_hint. It used to be sent back at once "as if logged out"
// while the SSO session and its tokens stayed, so the next traveller at
// the kiosk was logged in. Now the member is asked; after "Log out" the
// SSO session and its tokens are gone, and only then is the browser
// redirected, with state. The question's answer works once.
func KioskLogoutWithoutHint(t *testing.T, d e2e.Deployment) {
	m := logIn(t, d.StartWithMember(t, e2e.Options{}))
	state := strings.Repeat("k", 100) + "/+?&=é"
	q := url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {m.s.Issuer + "/rp/bye"}, "state": {state}}
	p := m.b.Get(t, m.s.Issuer+"/end_session?"+q.Encode())
	if p.Location != "" {
		t.Fatalf("end_session without a hint sent the browser to %q before the member said yes", p.Location)
	}
	id := question(t, p)
	if !strings.Contains(p.Body, "Member website") {
		t.Errorf("the question does not name the app asking:\n%s", p.Body)
	}
	res := m.b.Post(t, p.URL, "/logout", url.Values{"logout_id": {id}, "action": {"logout"}})
	want := m.s.Issuer + "/rp/bye?state=" + url.QueryEscape(state)
	if res.Location != want {
		t.Errorf("after the member's yes: %d to %q, want %q", res.Status, res.Location, want)
	}
	m.assertLoggedOut(t)

	// The same answer again (a replay, a second tab) sends nobody to the
	// relying party: that logout request is used up.
	again := m.b.Post(t, p.URL, "/logout", url.Values{"logout_id": {id}, "action": {"logout"}})
	if again.Location != "" || again.URL.Path != "/logged-out" {
		t.Errorf("a replayed answer: %d at %s, Location %q; want the logged-out page", again.Status, again.URL, again.Location)
	}
}

// LeakedHintEndsAnotherBrowsersSession: an ID token leaks (a
// third-party app, a log, a referrer). Its holder sends end_session with
// it from their own browser, logged out or logged in as someone. It used
// to end the victim's session and revoke its tokens; a hint now ends only
// the session of the browser that brings it, and anyone else is asked
// about their own session.
func LeakedHintEndsAnotherBrowsersSession(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{})
	victim := logIn(t, s)
	q := url.Values{"id_token_hint": {victim.hint}, "post_logout_redirect_uri": {s.Issuer + "/rp/bye"}, "state": {"x"}}
	stranger := e2e.NewBrowser(t, s)
	if p := stranger.Get(t, s.Issuer+"/end_session?"+q.Encode()); p.Status >= 500 {
		t.Errorf("end_session with a foreign hint in a browser without a session: %d", p.Status)
	}
	other := logIn(t, s) // the attacker's own login (same member, another browser)
	question(t, other.b.Get(t, s.Issuer+"/end_session?"+q.Encode()))
	victim.assertLoggedIn(t, "end_session with the victim's hint from other browsers")
	other.assertLoggedIn(t, "end_session with another session's hint, before the member said yes")
}

// CodeRedeemedAfterLogout: a code the SSO session issued just
// before the relying party logs out (with a valid hint: at once, back with
// state) is redeemed just after. It used to mint a fresh refresh token for
// the ended session; a revocation now also covers codes in flight.
func CodeRedeemedAfterLogout(t *testing.T, d e2e.Deployment) {
	m := logIn(t, d.StartWithMember(t, e2e.Options{}))
	f := e2e.NewFlow()
	cb := e2e.Callback(t, m.b.Get(t, m.rp.AuthURL(f)))
	if cb.Query().Get("code") == "" {
		t.Fatalf("SSO gave no code: %s", cb)
	}
	q := url.Values{"id_token_hint": {m.hint}, "post_logout_redirect_uri": {m.s.Issuer + "/rp/bye"}, "state": {"bye"}}
	p := m.b.Get(t, m.s.Issuer+"/end_session?"+q.Encode())
	if p.Location != m.s.Issuer+"/rp/bye?state=bye" {
		t.Fatalf("end_session with this session's hint: %d to %q, want the relying party at once", p.Status, p.Location)
	}
	if _, _, err := m.rp.Exchange(t.Context(), f, cb); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("a code from the ended session redeemed after logout: %v, want invalid_grant", err)
	}
	m.assertLoggedOut(t)
}
