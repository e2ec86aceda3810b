package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"tsubasa/provider/notify/notifytest"
)

const (
	pinMember = "8888888"
	pinValue  = "135790"
)

// TestLegacyPINMigration: a member holding only the legacy PIN logs in with
// it on the web and must choose a policy-compliant password; the password
// is stored only once the login is complete, after the one-time password
// mailed to the member's confirmed address (whatever otp.on_login says).
// Then the PIN no longer works on the web while the new password does.
func TestLegacyPINMigration(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := Start(t, Options{SMTPPort: port})
	s.CLI(t, false, "member", "create", "--number", pinMember, "--pin", pinValue, "--family-name", "山田", "--given-name", "太郎",
		"--family-name-latin", "YAMADA", "--given-name-latin", "TARO", "--email", "taro@example.com")
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	f := NewFlow()
	p := b.Get(t, rp.AuthURL(f))
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {pinMember}, "password": {pinValue}})
	if res.Status != http.StatusOK || !strings.Contains(res.URL.Path, "/login/password") {
		t.Fatalf("PIN login must lead to the set-password step, got %d at %s", res.Status, res.URL)
	}
	if !strings.Contains(res.Body, `autocomplete="new-password"`) || !strings.Contains(res.Body, "8") {
		t.Fatalf("set-password page lacks the new-password field or the rules:\n%s", res.Body)
	}
	id := res.AuthRequestID(t)
	// The rules are enforced, and the page says which failed.
	weak := b.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {id}, "new_password": {"yamada"}, "confirm_password": {"yamada"}})
	if weak.Status != http.StatusUnprocessableEntity || !strings.Contains(weak.Body, `class="failed"`) {
		t.Fatalf("weak password: status %d", weak.Status)
	}
	mismatch := b.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {id}, "new_password": {"Kumo-Sora-77"}, "confirm_password": {"Kumo-Sora-78"}})
	if mismatch.Status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatched confirmation: status %d", mismatch.Status)
	}
	code := b.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {id}, "new_password": {"Kumo-Sora-77"}, "confirm_password": {"Kumo-Sora-77"}})
	if code.URL.Path != "/login/otp" {
		t.Fatalf("after choosing a password: %d at %s, want the one-time password", code.Status, code.URL)
	}
	// Not stored yet: the PIN still opens the web, the new password does not.
	if r := pinLogin(t, s, rp, pinValue); r.URL.Path != "/login/password" {
		t.Errorf("PIN before the login completed: %d at %s, want the set-password step", r.Status, r.URL)
	}
	if r := pinLogin(t, s, rp, "Kumo-Sora-77"); r.Status != http.StatusUnauthorized {
		t.Errorf("the chosen password worked before the login completed: %d at %s", r.Status, r.URL)
	}
	_, otp := MailCode(t, smtp, 1)
	done := b.Post(t, code.URL, "/login/otp", url.Values{"authRequestID": {id}, "otp": {otp}})
	_, idt, err := rp.Exchange(t.Context(), f, Callback(t, done))
	if err != nil {
		t.Fatal(err)
	}
	var c idClaims
	_ = idt.Claims(&c)
	if !slices.Contains(c.AMR, "pin") || !slices.Contains(c.AMR, "otp") || c.ACR != "urn:tsubasa:acr:otp" {
		t.Errorf("amr %v acr %q, want pin and otp, and otp", c.AMR, c.ACR)
	}
	// The PIN no longer opens the web; the new password does.
	if r := pinLogin(t, s, rp, pinValue); r.Status != http.StatusUnauthorized {
		t.Errorf("PIN after migration: status %d, want 401", r.Status)
	}
	f = NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f, Login(t, NewBrowser(t, s), rp.AuthURL(f), pinMember, "Kumo-Sora-77")); err != nil {
		t.Errorf("new password: %v", err)
	}
}

// pinLogin posts pinMember's login with secret from a fresh browser.
func pinLogin(t *testing.T, s *Server, rp *RP, secret string) Page {
	t.Helper()
	b := NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(NewFlow()))
	return b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {pinMember}, "password": {secret}})
}

// TestPINRefusedAfterCutover: after legacy_pin.web_login_until the PIN is
// refused on the web with the explanation, and stays valid on the telephone.
func TestPINRefusedAfterCutover(t *testing.T) {
	s := Start(t, Options{PINUntil: "2021-10-19"})
	s.CLI(t, false, "member", "create", "--number", pinMember, "--pin", pinValue, "--family-name", "山田", "--email", "taro@example.com")
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(NewFlow()))
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {pinMember}, "password": {pinValue}})
	if res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "6桁の暗証番号") {
		t.Errorf("PIN after cutover: status %d, want 401 with the migration message", res.Status)
	}
	tok := TelephoneToken(t, s)
	if got := VerifyPIN(t, s, tok, pinMember, pinValue); got.Status != 200 || got.Result != "verified" {
		t.Errorf("PIN on the telephone after the web cutover: %+v", got)
	}
}

func TestTelephoneAPI(t *testing.T) {
	s := StartWithMember(t, Options{})
	s.CLI(t, false, "member", "create", "--number", pinMember, "--pin", pinValue, "--password", "Umi-Yama-2026", "--family-name", "佐藤", "--email", "p@example.com")
	tok := TelephoneToken(t, s)
	if r := VerifyPIN(t, s, tok, pinMember, pinValue); r.Result != "verified" {
		t.Fatalf("right PIN: %+v", r)
	}
	if r := VerifyPIN(t, s, tok, pinMember, "Umi-Yama-2026"); r.Result != "not_verified" {
		t.Errorf("a password must never work on the telephone: %+v", r)
	}
	if r := VerifyPIN(t, s, tok, "1111111", pinValue); r.Result != "not_verified" {
		t.Errorf("unknown member: %+v", r)
	}
	// Wrong client or no token.
	web := clientcredentials.Config{ClientID: "web", ClientSecret: "web-secret-0123456789", TokenURL: s.Issuer + "/oauth/token"}
	if _, err := web.Token(t.Context()); err == nil {
		t.Error("a client without the client_credentials grant obtained a token")
	}
	if r := VerifyPIN(t, s, "", pinMember, pinValue); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: status %d", r.Status)
	}
	if r := VerifyPIN(t, s, "not-a-token", pinMember, pinValue); r.Status != http.StatusUnauthorized {
		t.Errorf("bad token: status %d", r.Status)
	}
	// Malformed bodies say why.
	for _, body := range []string{`{`, `{"member_number": "8888888"}`, `{"member_number": "8888888", "pin": "1", "x": 1}`} {
		r := PostTelephone(t, s, tok, body)
		if r.Status != http.StatusBadRequest || r.Description == "" {
			t.Errorf("body %s: %+v, want 400 with a reason", body, r)
		}
	}
	// Five failures lock the telephone channel (the password tried above was
	// the first); the attempt reaching the limit already answers locked, and
	// then even the right PIN is refused.
	for failure := 2; failure <= 5; failure++ {
		want := "not_verified"
		if failure == 5 {
			want = "locked"
		}
		if r := VerifyPIN(t, s, tok, pinMember, "000000"); r.Result != want {
			t.Fatalf("failure %d: %+v, want %s", failure, r, want)
		}
	}
	if r := VerifyPIN(t, s, tok, pinMember, pinValue); r.Result != "locked" {
		t.Errorf("after 5 wrong PINs: %+v, want locked", r)
	}
	// The web login is a separate channel and still works.
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	f := NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f, Login(t, NewBrowser(t, s), rp.AuthURL(f), pinMember, "Umi-Yama-2026")); err != nil {
		t.Errorf("web login after a telephone lockout: %v", err)
	}
}
