package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// passkeyServer runs Tsubasa on http://localhost:PORT (RP ID localhost)
// with a member.
func passkeyServer(t *testing.T) *Server {
	t.Helper()
	return StartWithMember(t, Options{Host: "localhost"})
}

// passkeyJSON posts a JSON body as passkey.js does: fetch from our own page.
func (b *Browser) passkeyJSON(t *testing.T, s *Server, path, body string, header ...string) Page {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(t, req)
}

// passkeyAnswer is what the passkey endpoints answer.
type passkeyAnswer struct {
	Error             string          `json:"error"`
	Message           string          `json:"message"`
	Location          string          `json:"location"`
	Redirect          string          `json:"redirect"`
	UnknownCredential bool            `json:"unknownCredential"`
	PublicKey         json.RawMessage `json:"publicKey"`
}

func decodePasskeyAnswer(t *testing.T, p Page) passkeyAnswer {
	t.Helper()
	var a passkeyAnswer
	if err := json.Unmarshal([]byte(p.Body), &a); err != nil {
		t.Fatalf("not JSON (status %d): %v\n%s", p.Status, err, p.Body)
	}
	return a
}

// bogusAssertion is a well-formed credential.toJSON() of a login that no
// authenticator made.
const bogusAssertion = `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAA"},"clientExtensionResults":{}}`

// TestPasskeyEndpointErrors: the JSON endpoints of the passkey login and
// registration refuse what a page of ours would never send, bind the
// ceremony to the browser and its request, use each ceremony state once,
// and answer every failed login with one generic message.
func TestPasskeyEndpointErrors(t *testing.T) {
	s := passkeyServer(t)
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	login := b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("ui_locales", "en")))
	id := login.AuthRequestID(t)
	for _, want := range []string{`autocomplete="username webauthn"`, `id="passkey-login" hidden`, `<script src="/static/passkey.js" defer></script>`} {
		if !strings.Contains(login.Body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	begin := "/login/passkey/begin?authRequestID=" + url.QueryEscape(id)
	finish := "/login/passkey/finish?authRequestID=" + url.QueryEscape(id)

	// Requests that are missing, unknown, or another browser's.
	for _, c := range []struct {
		name, path string
		b          *Browser
		status     int
		code       string
	}{
		{"no request id", "/login/passkey/begin", b, http.StatusBadRequest, "request_missing"},
		{"unknown request", "/login/passkey/begin?authRequestID=nope", b, http.StatusNotFound, "request_expired"},
		{"another browser's request", begin, NewBrowser(t, s), http.StatusForbidden, "request_foreign"},
		{"another browser finishing", finish, NewBrowser(t, s), http.StatusForbidden, "request_foreign"},
	} {
		p := c.b.passkeyJSON(t, s, c.path, `{}`)
		if a := decodePasskeyAnswer(t, p); p.Status != c.status || a.Error != c.code || a.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s with a message", c.name, p.Status, a, c.status, c.code)
		}
	}

	// Finish without a ceremony: the generic message.
	p := b.passkeyJSON(t, s, finish, bogusAssertion)
	generic := decodePasskeyAnswer(t, p).Message
	if p.Status != http.StatusBadRequest || !strings.Contains(generic, "could not log you in with a passkey") {
		t.Errorf("finish without begin: %d %q", p.Status, p.Body)
	}

	// A ceremony: options for a usernameless login with user verification.
	p = b.passkeyJSON(t, s, begin, `{}`)
	var opts struct {
		PublicKey struct {
			Challenge        string `json:"challenge"`
			RPID             string `json:"rpId"`
			UserVerification string `json:"userVerification"`
			AllowCredentials []any  `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(p.Body), &opts); err != nil || p.Status != http.StatusOK {
		t.Fatalf("begin: %d %v\n%s", p.Status, err, p.Body)
	}
	if pk := opts.PublicKey; len(pk.Challenge) < 43 || strings.ContainsAny(pk.Challenge, "+/=") || pk.RPID != "localhost" ||
		pk.UserVerification != "required" || len(pk.AllowCredentials) != 0 {
		t.Errorf("login options: %+v", pk)
	}
	// Bad JSON spends the state: the next finish has no ceremony.
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"bad JSON", `{"id":`, http.StatusBadRequest, "bad_request"},
		{"state already spent", bogusAssertion, http.StatusBadRequest, "no_ceremony"},
	} {
		p := b.passkeyJSON(t, s, finish, c.body)
		if a := decodePasskeyAnswer(t, p); p.Status != c.status || a.Error != c.code || a.Message != generic {
			t.Errorf("%s: %d %+v, want %d %s and the generic message", c.name, p.Status, a, c.status, c.code)
		}
	}
	// A credential no authenticator made: refused, same message.
	b.passkeyJSON(t, s, begin, `{}`)
	p = b.passkeyJSON(t, s, finish, bogusAssertion)
	if a := decodePasskeyAnswer(t, p); p.Status != http.StatusUnauthorized || a.Error != "passkey_failed" || a.Message != generic || a.Redirect != "" {
		t.Errorf("bogus credential: %d %+v", p.Status, a)
	}

	// What a page of ours never sends: a form post, a cross-site call.
	b.passkeyJSON(t, s, begin, `{}`)
	form := b.passkeyJSON(t, s, finish, "id=x", "Content-Type", "application/x-www-form-urlencoded")
	if form.Status != http.StatusUnsupportedMediaType {
		t.Errorf("form post to finish: %d %s", form.Status, form.Body)
	}
	nav := b.passkeyJSON(t, s, begin, `{}`, "Sec-Fetch-Mode", "navigate")
	if nav.Status != http.StatusUnsupportedMediaType {
		t.Errorf("navigation to begin: %d %s", nav.Status, nav.Body)
	}
	cross := b.passkeyJSON(t, s, begin, `{}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if cross.Status != http.StatusForbidden {
		t.Errorf("cross-site begin: status %d, want 403", cross.Status)
	}
	// Continuing a login that no passkey started.
	if c := b.Get(t, s.Issuer+"/login/passkey/continue?authRequestID="+url.QueryEscape(id)); c.Status != http.StatusForbidden || c.Location != "" {
		t.Errorf("continue without a passkey login: %d %q", c.Status, c.Location)
	}
	// The password form still works after all this.
	if cb := Callback(t, b.Post(t, login.URL, "/login", url.Values{"authRequestID": {id}, "member_number": {MemberNumber}, "password": {MemberPass}})); cb.Query().Get("code") == "" {
		t.Errorf("password login after passkey errors: %s", cb)
	}
}

// TestPasskeyRegistrationNeedsSMSCode: the registration endpoints need a
// logged-in member and a fresh SMS code; a member without one is sent to
// the registration page, which asks for the code first.
func TestPasskeyRegistrationNeedsSMSCode(t *testing.T) {
	s := passkeyServer(t)
	b := NewBrowser(t, s)
	p := b.passkeyJSON(t, s, "/account/passkeys/begin", `{"name":"phone"}`)
	if a := decodePasskeyAnswer(t, p); p.Status != http.StatusUnauthorized || a.Error != "session_expired" || a.Location != "/account/passkeys/new" {
		t.Errorf("logged out: %d %+v", p.Status, a)
	}
	page := b.Get(t, s.Issuer+"/account/passkeys")
	res := b.Post(t, page.URL, "/login", url.Values{"authRequestID": {page.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if res.URL.Path != "/account/passkeys" || !strings.Contains(res.Body, `href="/account/passkeys/new"`) {
		t.Fatalf("passkey list after login: %d at %s", res.Status, res.URL)
	}
	for _, path := range []string{"/account/passkeys/begin", "/account/passkeys/finish"} {
		p := b.passkeyJSON(t, s, path, `{"name":"phone"}`)
		if a := decodePasskeyAnswer(t, p); p.Status != http.StatusUnauthorized || a.Error != "otp_required" || a.Location != "/account/passkeys/new" {
			t.Errorf("%s without the SMS code: %d %+v", path, p.Status, a)
		}
	}
	// The registration page sends the member to the code first.
	loc := passkeyCodeRedirect(t, b, s)
	if !strings.Contains(loc, "purpose=passkey") || !strings.Contains(loc, "via=sms") || strings.Contains(loc, "via=email") {
		t.Fatalf("registration page without a code → %q", loc)
	}
	// This member has no verified mobile number: the page says how to get one.
	gate := b.Get(t, s.Issuer+loc)
	if !strings.Contains(gate.Body, "/account/contacts") || !strings.Contains(gate.Body, "SMS") || strings.Contains(gate.Body, `name="otp"`) {
		t.Errorf("code page for a member without SMS: %d\n%s", gate.Status, gate.Body)
	}
}

// TestPasskeyRegistrationAnyOTP: with passkeys.registration_requires
// any_otp, a code by email will do as well.
func TestPasskeyRegistrationAnyOTP(t *testing.T) {
	s := StartWithMember(t, Options{Host: "localhost", Extra: "passkeys:\n  registration_requires: any_otp\n"})
	b := NewBrowser(t, s)
	page := b.Get(t, s.Issuer+"/account/passkeys")
	res := b.Post(t, page.URL, "/login", url.Values{"authRequestID": {page.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if !strings.Contains(res.Body, "メールアドレスまたは携帯電話番号") {
		t.Errorf("the passkey list does not say a code by email will do:\n%s", res.Body)
	}
	if loc := passkeyCodeRedirect(t, b, s); !strings.Contains(loc, "via=sms") || !strings.Contains(loc, "via=email") {
		t.Errorf("registration page without a code → %q", loc)
	}
}

// passkeyCodeRedirect opens the registration page and returns where it sends a
// member without a fresh code.
func passkeyCodeRedirect(t *testing.T, b *Browser, s *Server) string {
	t.Helper()
	nb := *b.Client
	nb.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nb.Get(s.Issuer + "/account/passkeys/new")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("registration page without a code: status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}
