package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// RP-Initiated Logout 1.0 as the OpenID Foundation's test plan checks it
// (oidcc-rp-initiated-logout and its -discovery-endpoint-verification,
// -no-params, -no-post-logout-redirect-uri, -no-state, -only-state,
// -no-id-token-hint, -bad-id-token-hint, -modified-id-token-hint,
// -bad-post-logout-redirect-uri, -query-added-to-post-logout-redirect-uri
// modules: the README's Conformance table maps each to its subtest), plus
// what a relying party does that the plan does not: POST, ui_locales, a
// registered URI with a query, an expired hint, and the member's "Stay
// logged in". The attacks are in attack/logout*_test.go.

var logoutIDRe = regexp.MustCompile(`name="logout_id" value="([^"]*)"`)

// endSession sends b to /end_session with q and returns the answer.
func endSession(t *testing.T, s *Server, b *Browser, q url.Values) Page {
	t.Helper()
	return b.Get(t, s.Issuer+"/end_session?"+q.Encode())
}

// answerQuestion checks p is the logout question and answers it.
func answerQuestion(t *testing.T, b *Browser, p Page, action string) Page {
	t.Helper()
	m := logoutIDRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || p.URL.Path != "/logout" || m == nil {
		t.Fatalf("want the logout question, got %d at %s (Location %q)", p.Status, p.URL, p.Location)
	}
	return b.Post(t, p.URL, "/logout", url.Values{"logout_id": {m[1]}, "action": {action}})
}

// loggedOut checks that b's SSO session is over (prompt=none answers
// login_required, as the test plan's second authorization expects).
func loggedOut(t *testing.T, rp *RP, b *Browser) {
	t.Helper()
	cb := Callback(t, b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if e := cb.Query().Get("error"); e != "login_required" {
		t.Errorf("after logout prompt=none answered %s, want login_required", cb)
	}
}

// stillLoggedIn checks that b's SSO session survived a refused logout.
func stillLoggedIn(t *testing.T, rp *RP, b *Browser) {
	t.Helper()
	if cb := Callback(t, b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none")))); cb.Query().Get("code") == "" {
		t.Errorf("a refused logout ended the session: prompt=none answered %s", cb)
	}
}

// noStoreNoFrame checks the headers every end-session answer carries.
func noStoreNoFrame(t *testing.T, p Page) {
	t.Helper()
	if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q, want frame-ancestors 'none'", csp)
	}
}

func TestRPInitiatedLogout(t *testing.T) {
	s := StartWithMember(t, Options{Extra: "tokens:\n  id_token_ttl: 2s\n"})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	s.CLI(t, false, "client", "add", "--id", "shop", "--name", "Mileage shop",
		"--redirect-uri", s.Issuer+"/rp/callback", "--post-logout-redirect-uri", s.Issuer+"/rp/shop-bye?from=tsubasa")
	bye := s.Issuer + "/rp/bye"
	login := func(t *testing.T) (*Browser, string) {
		t.Helper()
		b := NewBrowser(t, s)
		hint, _ := LoginRP(t, rp, b).Extra("id_token").(string)
		return b, hint
	}
	// refused: the error page the plan's refusing modules expect (a
	// screenshot of it), never cached or framed, and no redirect.
	refused := func(t *testing.T, p Page) {
		t.Helper()
		if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "ログアウトできませんでした") {
			t.Errorf("want the refusal page and no redirect, got %d (Location %q)", p.Status, p.Location)
		}
		noStoreNoFrame(t, p)
	}
	// redirected: the answer of a logout that returns to the relying party
	// is a 303 to exactly want (the registered URI, and state when one was
	// sent: nothing else, OIDCRIL-2/3), never cached.
	redirected := func(t *testing.T, p Page, want string) {
		t.Helper()
		if p.Status != http.StatusSeeOther || p.Location != want {
			t.Errorf("%d to %q, want 303 to %q", p.Status, p.Location, want)
		}
		noStoreNoFrame(t, p)
	}

	t.Run("hint, redirect and a long state", func(t *testing.T) {
		b, hint := login(t)
		state := strings.Repeat("s", 120) + "+/=&?#%"
		p := endSession(t, s, b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}, "state": {state}})
		redirected(t, p, bye+"?state="+url.QueryEscape(state))
		loggedOut(t, rp, b)
	})
	t.Run("no-params", func(t *testing.T) {
		b, _ := login(t)
		done := answerQuestion(t, b, endSession(t, s, b, nil), "logout")
		if done.Status != http.StatusOK || done.URL.Path != "/logged-out" || done.Location != "" {
			t.Errorf("after yes: %d at %s (Location %q), want the logged-out page", done.Status, done.URL, done.Location)
		}
		loggedOut(t, rp, b)
	})
	t.Run("no-post-logout-redirect-uri", func(t *testing.T) {
		b, hint := login(t)
		p := endSession(t, s, b, url.Values{"id_token_hint": {hint}, "state": {"x"}})
		if p.Status != http.StatusOK || p.URL.Path != "/logged-out" || p.Location != "" {
			t.Errorf("%d at %s (Location %q), want the logged-out page at once", p.Status, p.URL, p.Location)
		}
		loggedOut(t, rp, b)
	})
	t.Run("no-state", func(t *testing.T) {
		b, hint := login(t)
		redirected(t, endSession(t, s, b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}}), bye)
		loggedOut(t, rp, b)
	})
	t.Run("only-state", func(t *testing.T) {
		b, _ := login(t)
		done := answerQuestion(t, b, endSession(t, s, b, url.Values{"state": {"x"}}), "logout")
		if done.Location != "" || done.URL.Path != "/logged-out" {
			t.Errorf("after yes: %d at %s (Location %q), want the logged-out page", done.Status, done.URL, done.Location)
		}
		loggedOut(t, rp, b)
	})
	t.Run("no-id-token-hint", func(t *testing.T) {
		b, _ := login(t)
		refused(t, endSession(t, s, b, url.Values{"post_logout_redirect_uri": {bye}, "state": {"x"}}))
	})
	t.Run("bad-id-token-hint", func(t *testing.T) {
		b, hint := login(t)
		parts := strings.Split(hint, ".")
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		mac := hmac.New(sha256.New, []byte("web-secret-0123456789"))
		mac.Write([]byte(head + "." + parts[1]))
		forged := head + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		refused(t, endSession(t, s, b, url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {bye}}))
		flip := "A"
		if parts[2][0] == 'A' {
			flip = "B"
		}
		modified := parts[0] + "." + parts[1] + "." + flip + parts[2][1:]
		refused(t, endSession(t, s, b, url.Values{"id_token_hint": {modified}, "post_logout_redirect_uri": {bye}}))
		stillLoggedIn(t, rp, b)
	})
	t.Run("modified-id-token-hint", func(t *testing.T) {
		// The plan's change: the header says alg none, the signature goes.
		b, hint := login(t)
		parts := strings.Split(hint, ".")
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		for _, forged := range []string{none + "." + parts[1] + ".", none + "." + parts[1] + "." + parts[2]} {
			refused(t, endSession(t, s, b, url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {bye}, "state": {"m"}}))
		}
		stillLoggedIn(t, rp, b)
	})
	t.Run("bad-post-logout-redirect-uri", func(t *testing.T) {
		b, hint := login(t)
		for _, uri := range []string{s.Issuer + "/rp/not-registered", "https://rp.example/bye"} {
			refused(t, endSession(t, s, b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {uri}, "state": {"b"}}))
		}
		stillLoggedIn(t, rp, b)
	})
	t.Run("query-added-to-post-logout-redirect-uri", func(t *testing.T) {
		b, hint := login(t)
		refused(t, endSession(t, s, b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye + "?foo=bar"}, "state": {"q"}}))
		stillLoggedIn(t, rp, b)
	})
	t.Run("discovery-endpoint-verification", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+"/.well-known/openid-configuration", nil)
		w := WireDo(t, req)
		CheckWire(t, "discovery", w, true)
		meta := w.JSON(t)
		if w.Status != http.StatusOK || meta["end_session_endpoint"] != s.Issuer+"/end_session" {
			t.Fatalf("discovery: %d, end_session_endpoint %v; want %s", w.Status, meta["end_session_endpoint"], s.Issuer+"/end_session")
		}
		// Every endpoint on the issuer's own origin, so https wherever the
		// issuer is (config refuses an http issuer outside loopback and
		// development).
		iss, _ := url.Parse(s.Issuer)
		for k, v := range meta {
			if !strings.HasSuffix(k, "_endpoint") && k != "jwks_uri" {
				continue
			}
			u, err := url.Parse(fmt.Sprint(v))
			if err != nil || u.Scheme != iss.Scheme || u.Host != iss.Host {
				t.Errorf("%s %v: not on the issuer's origin %s", k, v, s.Issuer)
			}
		}
	})
	t.Run("registered query kept, state added", func(t *testing.T) {
		b, _ := login(t)
		p := endSession(t, s, b, url.Values{"client_id": {"shop"}, "post_logout_redirect_uri": {s.Issuer + "/rp/shop-bye?from=tsubasa"}, "state": {"a b"}})
		if !strings.Contains(p.Body, "Mileage shop") {
			t.Error("the question does not name the app asking")
		}
		if done := answerQuestion(t, b, p, "logout"); done.Location != s.Issuer+"/rp/shop-bye?from=tsubasa&state=a+b" {
			t.Errorf("after yes: Location %q", done.Location)
		}
		loggedOut(t, rp, b)
	})
	t.Run("POST from the relying party's page", func(t *testing.T) {
		b, hint := login(t)
		form := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}, "state": {"p"}}
		// A cross-site POST carries no SameSite=Lax cookie: the provider
		// answers it with the same request as a GET, which does.
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
			Do(NewFormRequest(t.Context(), s.Issuer+"/end_session", form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/end_session" {
			t.Fatalf("cookieless POST: %d to %v, want 303 to /end_session", resp.StatusCode, loc)
		}
		if p := b.Get(t, loc.String()); p.Location != bye+"?state=p" {
			t.Errorf("the GET it became: %d, Location %q", p.Status, p.Location)
		}
		loggedOut(t, rp, b)
	})
	t.Run("ui_locales and stay logged in", func(t *testing.T) {
		b, _ := login(t)
		p := endSession(t, s, b, url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {bye}, "ui_locales": {"en-GB ja"}})
		if !strings.Contains(p.Body, `<html lang="en">`) || !strings.Contains(p.Body, "Stay logged in") {
			t.Errorf("ui_locales=en-GB: the question is not in English:\n%s", p.Body)
		}
		stayed := answerQuestion(t, b, p, "stay")
		if stayed.Status != http.StatusOK || stayed.Location != "" || !strings.Contains(stayed.Body, "ログインしたままです") {
			t.Errorf("stay: %d at %s (Location %q), want the page saying so and no return to the app", stayed.Status, stayed.URL, stayed.Location)
		}
		if cb := Callback(t, b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none")))); cb.Query().Get("code") == "" {
			t.Errorf("the member stayed logged in, but prompt=none answered %s", cb)
		}
	})
	t.Run("expired hint", func(t *testing.T) {
		b, hint := login(t)
		time.Sleep(3 * time.Second) // past the ID token's 2-second exp
		if p := endSession(t, s, b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}}); p.Location != bye {
			t.Errorf("an expired hint of this session (§2: accepted): %d, Location %q", p.Status, p.Location)
		}
		loggedOut(t, rp, b)
	})
}

// TestRPInitiatedLogoutLapsedSession: the member left the browser idle
// until the SSO session lapsed; the relying party, whose own session is
// longer, then logs out with its ID token. No login comes from the lapsed
// session any more, but its refresh token would still work: the hint and
// the browser's cookie both name the session, so it is ended with its tokens.
func TestRPInitiatedLogoutLapsedSession(t *testing.T) {
	s := StartWithMember(t, Options{Extra: "session:\n  idle_ttl: 1s\n"})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	tok := LoginRP(t, rp, b)
	hint, _ := tok.Extra("id_token").(string)
	time.Sleep(2 * time.Second) // past the idle timeout
	bye := s.Issuer + "/rp/bye"
	if p := endSession(t, s, b, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}}); p.Location != bye {
		t.Fatalf("%d, Location %q; want the relying party at once", p.Status, p.Location)
	}
	if _, err := Refresh(t, rp, tok.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("the lapsed session's refresh token after logout: %v, want invalid_grant", err)
	}
}
