package attack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// softPasskey is a software WebAuthn authenticator with one passkey, for
// an RP ID of localhost.
type softPasskey struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newSoftPasskey(t *testing.T, s *e2e.Server) *softPasskey {
	t.Helper()
	return &softPasskey{
		rp:   virtualwebauthn.RelyingParty{ID: "localhost", Name: "Tsubasa", Origin: s.Issuer},
		auth: virtualwebauthn.NewAuthenticator(),
		cred: virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, e2e.PasskeyKey(t)),
	}
}

// softPasskeyCall posts a JSON body as the login page's script does.
func softPasskeyCall(t *testing.T, s *e2e.Server, b *e2e.Browser, path, body string) e2e.Page {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := e2e.PageOf(resp)
	if p.Status != http.StatusOK {
		t.Fatalf("POST %s: status %d\n%s", path, p.Status, p.Body)
	}
	return p
}

// register adds pk to the test member's account through the account
// pages: password, the code mailed for the passkey gate, the ceremony.
func (pk *softPasskey) register(t *testing.T, s *e2e.Server, smtp *notifytest.SMTPServer) {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	codes := len(e2e.CodeMails(smtp))
	p := b.Get(t, s.Issuer+"/account/passkeys/new")
	p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if p.URL.Path != "/account/otp" {
		t.Fatalf("registration page after login: %d at %s, want the code gate", p.Status, p.URL)
	}
	_, code := e2e.MailCode(t, smtp, codes+1)
	q := p.URL.Query()
	p = b.Post(t, p.URL, "/account/otp", url.Values{"purpose": q["purpose"], "return": q["return"], "via": q["via"], "otp": {code}})
	if p.URL.Path != "/account/passkeys/new" || p.Status != http.StatusOK {
		t.Fatalf("after the code: %d at %s", p.Status, p.URL)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(softPasskeyCall(t, s, b, "/account/passkeys/begin", `{"name":"phone"}`).Body)
	if err != nil {
		t.Fatal(err)
	}
	pk.auth.Options.UserHandle = []byte(opts.UserID)
	attestation := virtualwebauthn.CreateAttestationResponse(pk.rp, pk.auth, pk.cred, *opts)
	if res := softPasskeyCall(t, s, b, "/account/passkeys/finish", attestation); !strings.Contains(res.Body, "done=added") {
		t.Fatalf("registration: %s", res.Body)
	}
}

// login logs in through rp with pk from a fresh browser and returns the
// ID token's acr.
func (pk *softPasskey) login(t *testing.T, s *e2e.Server, rp *e2e.RP) string {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	f := e2e.NewFlow()
	id := url.QueryEscape(b.Get(t, rp.AuthURL(f)).AuthRequestID(t))
	opts, err := virtualwebauthn.ParseAssertionOptions(softPasskeyCall(t, s, b, "/login/passkey/begin?authRequestID="+id, `{}`).Body)
	if err != nil {
		t.Fatal(err)
	}
	assertion := virtualwebauthn.CreateAssertionResponse(pk.rp, pk.auth, pk.cred, *opts)
	var next struct {
		Redirect string `json:"redirect"`
	}
	if err := json.Unmarshal([]byte(softPasskeyCall(t, s, b, "/login/passkey/finish?authRequestID="+id, assertion).Body), &next); err != nil || next.Redirect == "" {
		t.Fatalf("passkey finish: %v %+v", err, next)
	}
	_, idt := e2e.MustExchange(t, rp, f, e2e.Callback(t, b.Get(t, s.Issuer+next.Redirect)))
	var claims struct {
		ACR string `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims.ACR
}

// PasswordLockoutAgainstPasskeyLogin: an attacker sends wrong
// passwords until the member's password login is locked and the address
// is at its limit too, to keep the member out. A passkey cannot be
// guessed, so neither lock applies to it: the member logs in with the
// passkey from a new browser on that same address.
func PasswordLockoutAgainstPasskeyLogin(t *testing.T, d e2e.Deployment) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := d.StartWithMember(t, e2e.Options{Host: "localhost", SMTPPort: port,
		Extra: "passkeys:\n  registration_requires: any_otp\nlockout:\n  per_ip_max_failures: 6\n"})
	s.CLI(t, false, "member", "create", "--number", "1000011", "--password", "Umi-Yama-2026", "--family-name", "青木")
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	pk := newSoftPasskey(t, s)
	pk.register(t, s, smtp)

	attacker := e2e.NewBrowser(t, s)
	lockMemberByGuessing(t, attacker, rp)
	if res, _ := freshPasswordLogin(t, attacker, rp, "3100000", "Wrong-pass-2026"); res.Status != http.StatusUnauthorized {
		t.Fatalf("sixth failure: status %d", res.Status)
	}
	mustBeLockedOut(t, "right password from a new browser", e2e.NewBrowser(t, s), rp, e2e.MemberNumber, e2e.MemberPass)
	mustBeLockedOut(t, "another member from this address", e2e.NewBrowser(t, s), rp, "1000011", "Umi-Yama-2026")

	if acr := pk.login(t, s, rp); acr != "phr" {
		t.Errorf("passkey login after the password lockout: acr %q, want phr", acr)
	}
}
