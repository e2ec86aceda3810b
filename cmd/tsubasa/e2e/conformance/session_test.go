package conformance

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// The authorization request's session parameters (OpenID Connect Core 1.0
// §3.1.2.1, §3.1.2.3): prompt, max_age, id_token_hint, login_hint,
// ui_locales and acr_values, played against a browser that is, or is
// not, logged in.

// loggedIn logs the member in through a new browser and returns the
// browser (now holding the SSO session), the raw ID token and its claims.
func (p *provider) loggedIn(t *testing.T) (*e2e.Browser, string, idToken) {
	t.Helper()
	b := e2e.NewBrowser(t, p.s)
	a := p.newAuthz(web, "openid")
	tk, id := p.finish(t, a, login(t, b, p.start(t, b, a), memberNumber, memberPass), idWant{})
	if id.AuthTime == nil {
		t.Fatal("the ID token has no auth_time: the session modules cannot tell a new login from an old one")
	}
	p.sameSub(t, web, id.Subject)
	return b, tk.idToken, id
}

// silent checks that a request is answered at once, without a page the
// member would have to act on, and returns its verified ID token.
func (p *provider) silent(t *testing.T, b *e2e.Browser, a *authz, want idWant) idToken {
	t.Helper()
	pg := p.start(t, b, a)
	if pg.Location == "" {
		t.Fatalf("want an answer without interaction, got %d at %s:\n%.400s", pg.Status, pg.URL, pg.Body)
	}
	_, id := p.finish(t, a, pg, want)
	return id
}

// relogin checks that a request shows the login form although the
// browser is logged in, and logs in again.
func (p *provider) relogin(t *testing.T, b *e2e.Browser, a *authz, want idWant) idToken {
	t.Helper()
	pg := p.start(t, b, a)
	if !isLoginPage(pg) {
		t.Fatalf("want the login form again (re-authentication), got %d at %s, Location %q", pg.Status, pg.URL, pg.Location)
	}
	_, id := p.finish(t, a, login(t, b, pg, memberNumber, memberPass), want)
	return id
}

// afterSecond sleeps until the clock's second after unix second at:
// auth_time counts whole seconds, and a login in the same second as the
// last could not be told apart from it.
func afterSecond(at int64) {
	time.Sleep(time.Until(time.Unix(at+1, 0)) + 20*time.Millisecond)
}

// promptLogin: oidcc-prompt-login. prompt=login makes the provider
// authenticate again although a session exists (§3.1.2.1): the login form,
// then a new auth_time, the same sub.
func promptLogin(t *testing.T, p *provider) {
	b, _, first := p.loggedIn(t)
	afterSecond(first.authTime())
	second := p.relogin(t, b, p.newAuthz(web, "openid").set("prompt", "login"), idWant{})
	if second.authTime() <= first.authTime() {
		t.Errorf("auth_time %d after prompt=login, want later than %d", second.authTime(), first.authTime())
	}
	if second.Subject != first.Subject {
		t.Errorf("sub changed from %s to %s", first.Subject, second.Subject)
	}
}

// promptNoneNotLoggedIn: oidcc-prompt-none-not-logged-in. Without a
// session, prompt=none is answered at the redirect URI with
// login_required and no page is shown (§3.1.2.6).
func promptNoneNotLoggedIn(t *testing.T, p *provider) {
	a := p.newAuthz(web, "openid").set("prompt", "none")
	p.authError(t, a, p.start(t, e2e.NewBrowser(t, p.s), a), "login_required")
}

// promptNoneLoggedIn: oidcc-prompt-none-logged-in. With a session,
// prompt=none is answered at once, for the same member and login.
func promptNoneLoggedIn(t *testing.T, p *provider) {
	b, _, first := p.loggedIn(t)
	second := p.silent(t, b, p.newAuthz(web, "openid").set("prompt", "none"), idWant{})
	if second.Subject != first.Subject || second.authTime() != first.authTime() {
		t.Errorf("prompt=none: sub %s auth_time %d, want the session's %s and %d", second.Subject, second.authTime(), first.Subject, first.authTime())
	}
}

// maxAge1: oidcc-max-age-1. Once more than max_age seconds have passed
// since the login, the provider MUST authenticate again (§3.1.2.1), and
// the ID token MUST carry auth_time (§2). The module waits for the age
// to pass, as the certification suite does.
func maxAge1(t *testing.T, p *provider) {
	b, _, first := p.loggedIn(t)
	time.Sleep(2 * time.Second)
	second := p.relogin(t, b, p.newAuthz(web, "openid").set("max_age", "1"), idWant{authTime: true})
	if second.authTime() <= first.authTime() {
		t.Errorf("auth_time %d after max_age=1 passed, want later than %d", second.authTime(), first.authTime())
	}
}

// maxAge10000: oidcc-max-age-10000. A login younger than max_age
// answers at once, with the login's auth_time (REQUIRED with max_age).
func maxAge10000(t *testing.T, p *provider) {
	b, _, first := p.loggedIn(t)
	second := p.silent(t, b, p.newAuthz(web, "openid").set("max_age", "10000"), idWant{authTime: true})
	if second.authTime() != first.authTime() || second.Subject != first.Subject {
		t.Errorf("max_age=10000: auth_time %d sub %s, want the session's %d and %s", second.authTime(), second.Subject, first.authTime(), first.Subject)
	}
}

// idTokenHint: oidcc-id-token-hint. prompt=none with the member's own ID
// token as id_token_hint is answered at once, for the same sub and login
// (§3.1.2.1). A hint naming another member is not answered with this
// member's login: login_required (§3.1.2.2).
func idTokenHint(t *testing.T, p *provider) {
	b, raw, first := p.loggedIn(t)
	second := p.silent(t, b, p.newAuthz(web, "openid").set("prompt", "none", "id_token_hint", raw), idWant{})
	if second.Subject != first.Subject || second.authTime() != first.authTime() {
		t.Errorf("id_token_hint: sub %s auth_time %d, want %s and %d", second.Subject, second.authTime(), first.Subject, first.authTime())
	}

	other := e2e.NewBrowser(t, p.s)
	a := p.newAuthz(web, "openid")
	tk, _ := p.finish(t, a, login(t, other, p.start(t, other, a), otherNumber, otherPass), idWant{})
	foreign := p.newAuthz(web, "openid").set("prompt", "none", "id_token_hint", tk.idToken)
	p.authError(t, foreign, p.start(t, b, foreign), "login_required")
}

// loginHint: oidcc-login-hint. A member number as login_hint fills in the
// login form (§3.1.2.1), whether or not a member has it; any other hint
// is ignored.
func loginHint(t *testing.T, p *provider) {
	b := e2e.NewBrowser(t, p.s)
	a := p.newAuthz(web, "openid").set("login_hint", memberNumber)
	pg := p.start(t, b, a)
	if got := prefilled(t, pg); got != memberNumber {
		t.Errorf("login_hint=%s: the login form's member number is %q", memberNumber, got)
	}
	p.finish(t, a, login(t, b, pg, memberNumber, memberPass), idWant{})

	// A number nobody has is filled in just the same.
	if got := prefilled(t, p.start(t, e2e.NewBrowser(t, p.s), p.newAuthz(web, "openid").set("login_hint", "9999999"))); got != "9999999" {
		t.Errorf("login_hint=9999999: the login form's member number is %q", got)
	}
	for _, hint := range []string{"hanako@example.com", "12345", "<b>1234567</b>"} {
		pg := p.start(t, e2e.NewBrowser(t, p.s), p.newAuthz(web, "openid").set("login_hint", hint))
		if got := prefilled(t, pg); got != "" {
			t.Errorf("login_hint=%s: the login form's member number is %q, want empty", hint, got)
		}
	}
}

var memberNumberInput = regexp.MustCompile(`<input[^>]*name="member_number"[^>]*value="([^"]*)"`)

// prefilled is the member number a login page's form is filled in with.
func prefilled(t *testing.T, pg e2e.Page) string {
	t.Helper()
	m := memberNumberInput.FindStringSubmatch(pg.Body)
	if !isLoginPage(pg) || m == nil {
		t.Fatalf("want the login form with a member number field, got %d at %s", pg.Status, pg.URL)
	}
	return m[1]
}

// uiLocales: oidcc-ui-locales. ui_locales picks the login page's language
// before the browser's Accept-Language (§3.1.2.1); a language Tsubasa
// does not have is skipped for the next one listed.
func uiLocales(t *testing.T, p *provider) {
	for _, tt := range []struct{ uiLocales, acceptLanguage, want string }{
		{"en", "ja", "en"},
		{"ja", "en-US,en;q=0.9", "ja"},
		{"fr-CA en", "ja", "en"},
		{"en-GB", "ja", "en"},
		{"ja-JP en", "en", "ja"},
		{"de", "en", "en"},
		{"zh-TW", "ja", "zh-Hant"},
		{"zh-CN ja", "en", "zh-Hans"},
		{"ko-KR", "en-US", "ko"},
		{"fr", "zh-HK,zh;q=0.8", "zh-Hant"},
	} {
		b := e2e.NewBrowser(t, p.s)
		a := p.newAuthz(web, "openid").set("ui_locales", tt.uiLocales)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.authURL(t, a), nil)
		req.Header.Set("Accept-Language", tt.acceptLanguage)
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pg := e2e.PageOf(resp)
		resp.Body.Close()
		if !isLoginPage(pg) || !strings.Contains(pg.Body, `<html lang="`+tt.want+`"`) {
			t.Errorf("ui_locales=%q, Accept-Language %q: want the login page in %s:\n%.300s", tt.uiLocales, tt.acceptLanguage, tt.want, pg.Body)
			continue
		}
		if tt.want == "en" {
			p.finish(t, a, login(t, b, pg, memberNumber, memberPass), idWant{})
		}
	}
}

// acrValues: oidcc-ensure-request-with-acr-values-succeeds. acr_values
// asks for a level as a voluntary claim (§3.1.2.1, §5.5.1.1): the request
// succeeds, and acr says the level reached, which meets the request
// when it names a level Tsubasa has; values it does not know are no error.
func acrValues(t *testing.T, p *provider) {
	const pwd = "urn:tsubasa:acr:pwd"
	_, id := p.flow(t, p.newAuthz(web, "openid").set("acr_values", pwd))
	if id.ACR != pwd {
		t.Errorf("acr_values=%s after a password login: acr %q", pwd, id.ACR)
	}
	_, id = p.flow(t, p.newAuthz(web, "openid").set("acr_values", "1 2"))
	if id.ACR == "" {
		t.Error("acr_values with unknown values: the ID token has no acr")
	}
}
