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

// passkeyCall posts a JSON body as the pages' passkey.js does.
func passkeyCall(t *testing.T, s *e2e.Server, b *e2e.Browser, path, body string) e2e.Page {
	t.Helper()
	req := e2e.NewFormRequest(t.Context(), s.Issuer+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	return b.Send(t, req)
}

// TestReplicasPasskeyLogin: a member registers a software passkey
// (github.com/descope/virtualwebauthn) from the account pages, behind a
// mailed code, and logs in with it; every step (the code gate, the
// ceremony's begin and finish, the callback) lands on another replica
// than the one before, since the ceremony's state lives in the
// server-side session and its single use in the database. The same
// assertion sent three times at once, one to each replica, logs in once.
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
	aopts, err := virtualwebauthn.ParseAssertionOptions(passkeyCall(t, c.Server, login, "/login/passkey/begin?authRequestID="+id, `{}`).Body)
	if err != nil {
		t.Fatal(err)
	}
	mustRotate(t, "the passkey login's first requests", seen.all(), 3)
	assertion := virtualwebauthn.CreateAssertionResponse(relying, auth, cred, *aopts)
	answers := make([]e2e.Page, len(c.Replicas))
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			answers[i] = passkeyCall(t, c.Server, login, "/login/passkey/finish?authRequestID="+id, assertion)
		})
	}
	wg.Wait()
	var redirect string
	on := map[string]bool{}
	for _, a := range answers {
		on[a.Header.Get(e2e.ReplicaHeader)] = true
		var next struct {
			Redirect string `json:"redirect"`
		}
		switch {
		case a.Status == http.StatusOK && json.Unmarshal([]byte(a.Body), &next) == nil && next.Redirect != "" && redirect == "":
			redirect = next.Redirect
		case a.Status == http.StatusOK:
			t.Errorf("a second finish of one ceremony on replica %s logged in too: %s", a.Header.Get(e2e.ReplicaHeader), a.Body)
		case a.Status < 400:
			t.Errorf("finish on replica %s: status %d", a.Header.Get(e2e.ReplicaHeader), a.Status)
		}
	}
	if redirect == "" || len(on) != len(c.Replicas) {
		t.Fatalf("the finishes landed on replicas %v (want every one), the winner's redirect %q: %+v", on, redirect, answers)
	}
	_, idt := e2e.MustExchange(t, rp, f, e2e.Callback(t, login.Get(t, c.Issuer+redirect)))
	var claims struct {
		ACR string `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.ACR != "phr" {
		t.Errorf("passkey login: acr %q (%v), want phr", claims.ACR, err)
	}
}
