package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// The code and the tokens it buys: single use (RFC 6749 §4.1.2, §10.5;
// RFC 9700 §4.5), the registered redirect URI (RFC 6749 §3.1.2, §10.6;
// RFC 9700 §4.1), refresh (RFC 6749 §6; OpenID Connect Core 1.0 §12).

// codeReuse: oidcc-codereuse. A code is used once: the second exchange
// is 400 invalid_grant (§3.1.3.4; RFC 6749 §5.2), and the tokens the
// first one bought are revoked (RFC 6749 §4.1.2: SHOULD).
func codeReuse(t *testing.T, p *provider) { replayCode(t, p, web) }

// codeReuse30Seconds: oidcc-codereuse-30seconds. The certification suite
// waits 30 seconds before the second exchange to give a provider that
// revokes asynchronously time to do it. Tsubasa claims and revokes in the
// exchange's own commit, so the answer is the same at once as after 30
// seconds (and a code's lifetime is shorter than a minute anyway): the
// module replays at once, with the ES256 client, as another variant.
func codeReuse30Seconds(t *testing.T, p *provider) { replayCode(t, p, webES256) }

func replayCode(t *testing.T, p *provider, c client) {
	b := e2e.NewBrowser(t, p.s)
	a := p.newAuthz(c, "openid")
	code := p.loginAs(t, b, a, memberNumber, memberPass)
	tk := p.exchange(t, a, code)
	id := p.verifyIDToken(t, tk.idToken, c, idWant{nonce: a.nonce, accessToken: tk.access, code: code})
	p.userinfo(t, getHeader, tk.access, id.Subject)
	if tk.refresh == "" {
		t.Fatal("no refresh token to check the revocation of")
	}

	tokenError(t, "second exchange of a code", p.tokenRequest(t, c, authBasic, p.codeGrant(a, code)), http.StatusBadRequest, "invalid_grant")
	p.userinfoRefused(t, "userinfo with the access token of a replayed code", tk.access)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}}
	tokenError(t, "refresh token of a replayed code", p.tokenRequest(t, c, authBasic, refresh), http.StatusBadRequest, "invalid_grant")
}

// registeredRedirectURI: oidcc-ensure-registered-redirect-uri. A
// redirect_uri that is not exactly one the client registered is never
// redirected to (RFC 6749 §3.1.2.4, §4.1.2.1; RFC 9700 §4.1.3: exact
// string matching): the member sees an error page and no Location.
func registeredRedirectURI(t *testing.T, p *provider) {
	b := e2e.NewBrowser(t, p.s)
	for _, bad := range []string{
		p.redirect + "/extra",
		p.redirect + "?x=1",
		p.redirect + "#frag",
		strings.Replace(p.redirect, "/rp/callback", "/rp/CALLBACK", 1),
		strings.Replace(p.redirect, "http://", "https://", 1),
		"https://attacker.example/rp/callback",
		p.redirect + "%2F..",
	} {
		a := p.newAuthz(web, "openid").set("redirect_uri", bad)
		pg := p.start(t, b, a)
		if pg.Location != "" || pg.Status != http.StatusBadRequest || !strings.HasPrefix(pg.URL.Path, "/authorize") {
			t.Errorf("redirect_uri %s: %d at %s, Location %q; want the 400 error page and no redirect", bad, pg.Status, pg.URL, pg.Location)
		}
		if strings.Contains(pg.Body, `href="`+bad) {
			t.Errorf("redirect_uri %s: the error page links to it", bad)
		}
		checkPage(t, "error page for redirect_uri "+bad, pg)
	}
	// Without a redirect_uri: the client must send one (OpenID Connect
	// Core 1.0 §3.1.2.1: REQUIRED), and is not redirected to either.
	a := p.newAuthz(web, "openid").without("redirect_uri")
	if pg := p.start(t, b, a); pg.Location != "" || pg.Status != http.StatusBadRequest {
		t.Errorf("no redirect_uri: %d, Location %q; want the 400 error page", pg.Status, pg.Location)
	}
}

// refreshToken: oidcc-refresh-token. The refresh grant (RFC 6749 §6)
// answers like the code grant; its ID token keeps iss, sub, aud, azp and
// auth_time of the original login with a new iat (OpenID Connect Core
// 1.0 §12.2); the refresh token is bound to its client (RFC 6749 §10.4),
// its scope may narrow but not widen (§6), and it is rotated (RFC 9700
// §4.14.2): the old one is refused after use.
func refreshToken(t *testing.T, p *provider) {
	if !strings.Contains(" "+strings.Join(p.list("grant_types_supported"), " ")+" ", " refresh_token ") {
		t.Error("refresh tokens are issued but grant_types_supported lacks refresh_token")
	}
	b := e2e.NewBrowser(t, p.s)
	// OpenID Connect Core 1.0 §11: offline_access comes with
	// prompt=consent, as the certification suite sends it. A first-party
	// client's consent is the programme's own terms: no page.
	a := p.newAuthz(web, "openid offline_access").set("prompt", "consent")
	tk, first := p.finish(t, a, login(t, b, p.start(t, b, a), memberNumber, memberPass), idWant{})
	if tk.refresh == "" {
		t.Fatal("no refresh token for a first-party client with offline_access")
	}
	refresh := func(c client, how clientAuth, rt string) e2e.Wire {
		return p.tokenRequest(t, c, how, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}

	afterSecond(int64(*first.IssuedAt))
	next := p.tokenResponse(t, "refresh grant", refresh(web, authPost, tk.refresh), true)
	second := p.verifyIDToken(t, next.idToken, web, idWant{refreshOf: &first, accessToken: next.access})
	if second.Issuer != first.Issuer || second.Subject != first.Subject || string(second.Audience) != string(first.Audience) ||
		second.authTime() != first.authTime() || deref(second.AZP) != deref(first.AZP) {
		t.Errorf("refreshed ID token: iss %s sub %s aud %s auth_time %d azp %s; want the original's %s %s %s %d %s (§12.2)",
			second.Issuer, second.Subject, second.Audience, second.authTime(), deref(second.AZP),
			first.Issuer, first.Subject, first.Audience, first.authTime(), deref(first.AZP))
	}
	if *second.IssuedAt <= *first.IssuedAt {
		t.Errorf("refreshed ID token iat %v, want after the original's %v", *second.IssuedAt, *first.IssuedAt)
	}
	p.userinfo(t, postBody, next.access, first.Subject)
	if next.refresh == "" || next.refresh == tk.refresh {
		t.Errorf("refresh token not rotated: %q", next.refresh)
	}
	tokenError(t, "refresh with another client's token", refresh(webES256, authBasic, next.refresh), http.StatusBadRequest, "invalid_grant")

	// scope narrows the grant, and may not widen it (RFC 6749 §6).
	wider := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.refresh}, "scope": {"openid profile email"}}
	tokenError(t, "refresh asking for more scope", p.tokenRequest(t, web, authBasic, wider), http.StatusBadRequest, "invalid_scope")
	narrow := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.refresh}, "scope": {"openid"}}
	third := p.tokenResponse(t, "refresh asking for less scope", p.tokenRequest(t, web, authBasic, narrow), true)
	if !sameScopes(third.scope, "openid") {
		t.Errorf("refresh asking for openid only: scope %q, want openid", third.scope)
	}

	tokenError(t, "refresh with a rotated-out token", refresh(web, authBasic, tk.refresh), http.StatusBadRequest, "invalid_grant")
}
