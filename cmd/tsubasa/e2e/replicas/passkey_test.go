package replicas

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/descope/virtualwebauthn"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// passkeyRequest is a JSON post as the pages' passkey.js makes it.
func passkeyRequest(t *testing.T, s *e2e.Server, path, body string) *http.Request {
	req := e2e.NewFormRequest(t.Context(), s.Issuer+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	return req
}

// passkeyCall sends a passkeyRequest from b.
func passkeyCall(t *testing.T, s *e2e.Server, b *e2e.Browser, path, body string) e2e.Page {
	t.Helper()
	return b.Send(t, passkeyRequest(t, s, path, body))
}

// TestReplicasPasskeyLogin: a member registers a software passkey
// (github.com/descope/virtualwebauthn) from the account pages, behind a
// mailed code, and logs in with it; every step (the code gate, the
// ceremony's begin and finish, the callback) lands on another replica
// than the one before, since the ceremony's state lives in the
// server-side session and its single use in the database. The same
// assertion again is refused on every replica, and another ceremony's
// assertion sent three times at once, one to each replica, is taken once.
func TestReplicasPasskeyLogin(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	c := e2e.StartCluster(t, e2e.Options{Host: "localhost", SMTPPort: port,
		Extra: "passkeys:\n  registration_requires: any_otp\n"}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret)
	relying := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Tsubasa", Origin: c.Issuer}
	cred := virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, e2e.PasskeyKey(t))
	auth := virtualwebauthn.NewAuthenticator()

	b, seen := browserFrom(t, c.Server, "127.0.0.1")
	p := b.Get(t, c.Issuer+"/account/passkeys/new")
	p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if p.URL.Path != "/account/otp" {
		t.Fatalf("registration after the password: %d at %s, want the code gate", p.Status, p.URL)
	}
	_, code := e2e.MailCode(t, smtp, 1)
	q := p.URL.Query()
	if p = b.Post(t, p.URL, "/account/otp", url.Values{"purpose": q["purpose"], "return": q["return"], "via": q["via"], "otp": {code}}); p.URL.Path != "/account/passkeys/new" {
		t.Fatalf("after the gate's code: %d at %s", p.Status, p.URL)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(passkeyCall(t, c.Server, b, "/account/passkeys/begin", `{"name":"phone"}`).Body)
	if err != nil {
		t.Fatal(err)
	}
	auth.Options.UserHandle = []byte(opts.UserID)
	if res := passkeyCall(t, c.Server, b, "/account/passkeys/finish", virtualwebauthn.CreateAttestationResponse(relying, auth, cred, *opts)); !strings.Contains(res.Body, "done=added") {
		t.Fatalf("registration finish: %d %s", res.Status, res.Body)
	}
	mustRotate(t, "the registration's requests", seen.all(), 3)

	login, seen := browserFrom(t, c.Server, "127.0.0.1")
	f := e2e.NewFlow()
	id := url.QueryEscape(login.Get(t, rp.AuthURL(f)).AuthRequestID(t))
	assertion := assert(t, c.Server, login, id, relying, auth, cred)
	var next struct {
		Redirect string `json:"redirect"`
	}
	res := passkeyCall(t, c.Server, login, "/login/passkey/finish?authRequestID="+id, assertion)
	if err := json.Unmarshal([]byte(res.Body), &next); err != nil || res.Status != http.StatusOK || next.Redirect == "" {
		t.Fatalf("passkey finish: %d %s", res.Status, res.Body)
	}
	_, idt := e2e.MustExchange(t, rp, f, e2e.Callback(t, login.Get(t, c.Issuer+next.Redirect)))
	mustRotate(t, "the passkey login's requests", seen.all(), 3)
	var claims struct {
		ACR string `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.ACR != "phr" {
		t.Errorf("passkey login: acr %q (%v), want phr", claims.ACR, err)
	}
	for range c.Replicas {
		if res := passkeyCall(t, c.Server, login, "/login/passkey/finish?authRequestID="+id, assertion); res.Status < 400 {
			t.Errorf("the same assertion again, on replica %s: status %d", res.Header.Get(e2e.ReplicaHeader), res.Status)
		}
	}

	// One ceremony's assertion finished at once on every replica: one
	// finish takes the ceremony (its single use is one claim in the
	// database), the others are refused. (Which of them saves the
	// browser's session last is a race of the requests themselves, so
	// the winner's login is not taken further here.)
	racer := e2e.NewBrowser(t, c.Server)
	id = url.QueryEscape(racer.Get(t, rp.AuthURL(e2e.NewFlow())).AuthRequestID(t))
	assertion = assert(t, c.Server, racer, id, relying, auth, cred)
	answers := make([]e2e.Page, len(c.Replicas))
	var wg sync.WaitGroup
	for i := range answers {
		req := passkeyRequest(t, c.Server, "/login/passkey/finish?authRequestID="+id, assertion)
		wg.Go(func() {
			var err error
			if answers[i], err = sendFrom(racer, req); err != nil {
				t.Errorf("finish %d: %v", i+1, err)
			}
		})
	}
	wg.Wait()
	won, on := 0, map[string]bool{}
	for _, a := range answers {
		on[a.Header.Get(e2e.ReplicaHeader)] = true
		switch {
		case a.Status == http.StatusOK:
			won++
		case a.Status < 400:
			t.Errorf("a finish on replica %s: status %d", a.Header.Get(e2e.ReplicaHeader), a.Status)
		}
	}
	if won != 1 || len(on) != len(c.Replicas) {
		t.Errorf("one ceremony finished at once on replicas %v: %d finishes succeeded, want exactly 1", on, won)
	}
}

// assert begins a passkey login of request id in b and returns the
// authenticator's assertion for it.
func assert(t *testing.T, s *e2e.Server, b *e2e.Browser, id string, relying virtualwebauthn.RelyingParty,
	auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential) string {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(passkeyCall(t, s, b, "/login/passkey/begin?authRequestID="+id, `{}`).Body)
	if err != nil {
		t.Fatal(err)
	}
	return virtualwebauthn.CreateAssertionResponse(relying, auth, cred, *opts)
}
