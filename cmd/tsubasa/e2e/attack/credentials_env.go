package attack

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"
	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// credEnv is a server with the test member (hanako@example.com, confirmed),
// its mail going to a recording SMTP server, and the first-party client.
type credEnv struct {
	s    *e2e.Server
	smtp *notifytest.SMTPServer
	rp   *e2e.RP
}

// startCred starts deployment d; extra is YAML appended to its config (it
// must set otp:, which the harness would otherwise set to on_login: never).
func startCred(t *testing.T, d e2e.Deployment, o e2e.Options, extra string) *credEnv {
	t.Helper()
	e := &credEnv{smtp: notifytest.NewSMTPServer(t)}
	_, o.SMTPPort = e.smtp.Addr()
	o.Extra += extra
	e.s = d.StartWithMember(t, o)
	e.rp = e2e.NewRP(t, e.s, "web", "web-secret-0123456789")
	return e
}

// codes is how many code mails arrived so far.
func (e *credEnv) codes() int { return len(e2e.CodeMails(e.smtp)) }

// code waits for the code mail after the first seen ones.
func (e *credEnv) code(t *testing.T, seen int) string {
	t.Helper()
	_, c := e2e.MailCode(t, e.smtp, seen+1)
	return c
}

// postLogin opens authURL in b and posts number and secret.
func postLogin(t *testing.T, b *e2e.Browser, authURL, number, secret string) e2e.Page {
	t.Helper()
	p := b.Get(t, authURL)
	return b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {secret}})
}

// tryPassword posts a login of number with secret from a fresh browser.
func (e *credEnv) tryPassword(t *testing.T, number, secret string) e2e.Page {
	t.Helper()
	return postLogin(t, e2e.NewBrowser(t, e.s), e.rp.AuthURL(e2e.NewFlow()), number, secret)
}

// account opens an account page in b as the member would: the password
// when asked, then the code mailed when asked.
func (e *credEnv) account(t *testing.T, b *e2e.Browser, path string) e2e.Page {
	t.Helper()
	seen := e.codes()
	p := b.Get(t, e.s.Issuer+path)
	if p.URL.Path == "/login" {
		p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	}
	if p.URL.Path == "/login/otp" {
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {e.code(t, seen)}})
	}
	if p.Status != http.StatusOK || p.URL.Path != strings.SplitN(path, "?", 2)[0] {
		t.Fatalf("%s: status %d at %s\n%s", path, p.Status, p.URL, p.Body)
	}
	return p
}

// holdings are what a browser logged in through the relying party holds.
type holdings struct {
	b   *e2e.Browser
	tok *oauth2.Token
}

// loginApp logs the member in through the relying party in a new browser.
func (e *credEnv) loginApp(t *testing.T) holdings {
	t.Helper()
	b := e2e.NewBrowser(t, e.s)
	return holdings{b: b, tok: e2e.LoginRP(t, e.rp, b)}
}

// userinfo is the status /userinfo answers the access token with.
func (e *credEnv) userinfo(t *testing.T, access string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.s.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// ssoAnswers is whether the browser's SSO session still answers a
// prompt=none request with a code.
func (e *credEnv) ssoAnswers(t *testing.T, b *e2e.Browser) bool {
	t.Helper()
	cb := e2e.Callback(t, b.Get(t, e.rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	return cb.Query().Get("code") != ""
}

// mustWork checks that everything h holds works, so that a later "gone"
// means something.
func (e *credEnv) mustWork(t *testing.T, h holdings, what string) {
	t.Helper()
	if !e.ssoAnswers(t, h.b) {
		t.Fatalf("%s: the SSO session does not answer before the change", what)
	}
	if st := e.userinfo(t, h.tok.AccessToken); st != http.StatusOK {
		t.Fatalf("%s: /userinfo answers %d before the change", what, st)
	}
}

// mustBeGone checks that nothing h holds works any more: the SSO session,
// the account pages, the refresh token (invalid_grant), the access token at
// /userinfo and at introspection.
func (e *credEnv) mustBeGone(t *testing.T, h holdings, what string) {
	t.Helper()
	e.s.Settle()
	if e.ssoAnswers(t, h.b) {
		t.Errorf("%s: the SSO session still answers prompt=none", what)
	}
	if p := h.b.Get(t, e.s.Issuer+"/account"); p.URL.Path != "/login" {
		t.Errorf("%s: the browser still reaches %s", what, p.URL)
	}
	// A revoked token is invalid_token: 401 (RFC 6750 §3.1).
	if st := e.userinfo(t, h.tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("%s: /userinfo answers the access token with %d, want 401", what, st)
	}
	if e2e.Introspect(t, e.s.Issuer+"/oauth/introspect", "web", "web-secret-0123456789", h.tok.AccessToken) {
		t.Errorf("%s: introspection calls the access token active", what)
	}
	if _, err := e2e.Refresh(t, e.rp, h.tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("%s: the refresh token: %v, want invalid_grant", what, err)
	}
}

// stealth is an intruder's quiet foothold: a refresh token of the app
// from a browser the intruder then drops, keeping only the token. Logging
// out of the session first is no foothold: the logout revokes the
// session's tokens, checked here on the way.
func (e *credEnv) stealth(t *testing.T) *oauth2.Token {
	t.Helper()
	out := e.loginApp(t)
	acct := e.account(t, out.b, "/account")
	out.b.Post(t, acct.URL, "/account/logout", nil)
	if e.ssoAnswers(t, out.b) {
		t.Fatal("the intruder's SSO session survived its logout")
	}
	if _, err := e2e.Refresh(t, e.rp, out.tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("a refresh token of a session logged out on the account page: %v, want invalid_grant", err)
	}
	h := e.loginApp(t)
	next, err := e2e.Refresh(t, e.rp, h.tok.RefreshToken)
	if err != nil {
		t.Fatalf("the stealth refresh token does not work before the change: %v", err)
	}
	return next
}

var hiddenInputRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields are the hidden inputs of the form posting to action on p.
func formFields(t *testing.T, p e2e.Page, action string) url.Values {
	t.Helper()
	i := strings.Index(p.Body, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("no form posting to %s on %s:\n%s", action, p.URL, p.Body)
	}
	form := p.Body[i:]
	form = form[:strings.Index(form, "</form>")]
	v := url.Values{}
	for _, m := range hiddenInputRe.FindAllStringSubmatch(form, -1) {
		v.Add(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

// postJSON posts a JSON body as passkey.js does, from our own page, and
// returns the status and the body.
func postJSON(t *testing.T, b *e2e.Browser, s *e2e.Server, path, body string) (int, string) {
	t.Helper()
	req := e2e.NewFormRequest(t.Context(), s.Issuer+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

var passkeyIDRe = regexp.MustCompile(`href="/account/passkeys/([A-Za-z0-9_-]+)/delete"`)

// registerPasskey logs the member in in b, passes the code gate in front
// of the registration and registers a passkey from a virtual
// authenticator, as passkey.js and a browser would. It returns its id.
func (e *credEnv) registerPasskey(t *testing.T, b *e2e.Browser) string {
	t.Helper()
	seen := e.codes()
	p := b.Get(t, e.s.Issuer+"/account/passkeys/new")
	if p.URL.Path == "/login" {
		p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	}
	if p.URL.Path != "/account/otp" {
		t.Fatalf("registration page: %d at %s, want the code gate", p.Status, p.URL)
	}
	form := formFields(t, p, "/account/otp")
	form.Set("otp", e.code(t, seen))
	if p = b.Post(t, p.URL, "/account/otp", form); p.URL.Path != "/account/passkeys/new" {
		t.Fatalf("after the gate's code: %d at %s", p.Status, p.URL)
	}
	status, options := postJSON(t, b, e.s, "/account/passkeys/begin", `{"name":"Phone"}`)
	if status != http.StatusOK {
		t.Fatalf("registration begin: %d %s", status, options)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		t.Fatal(err)
	}
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(opts.UserID)})
	cred := virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, e2e.PasskeyKey(t))
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Tsubasa", Origin: e.s.Issuer}
	if status, body := postJSON(t, b, e.s, "/account/passkeys/finish", virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *opts)); status != http.StatusOK {
		t.Fatalf("registration finish: %d %s", status, body)
	}
	m := passkeyIDRe.FindStringSubmatch(b.Get(t, e.s.Issuer+"/account/passkeys").Body)
	if m == nil {
		t.Fatal("the registered passkey is not listed")
	}
	return m[1]
}
