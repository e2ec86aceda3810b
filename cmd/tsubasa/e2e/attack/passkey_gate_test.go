package attack

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// A passkey is a way in that lasts: an intruder who has the password and
// the member's mailbox (but not the phone) wants one of their own. The
// programme's rule is that adding a passkey takes a fresh one-time
// password by SMS (passkeys.registration_requires: sms, the default),
// checked when the registration page opens, when the ceremony begins and
// when it finishes (login-ui/otp_gate.go, passkey_account.go).

var smsCodeRe = regexp.MustCompile(`\b(\d{6})\b`)

// deliveredSMSCode waits for the n-th delivered SMS (from 1) and returns
// its code.
func deliveredSMSCode(t *testing.T, sms *notifytest.SMSWebhook, n int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(sms.Delivered()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no SMS number %d (%d delivered)", n, len(sms.Delivered()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := smsCodeRe.FindStringSubmatch(sms.Delivered()[n-1].Body)
	if m == nil {
		t.Fatalf("SMS %d holds no code: %q", n, sms.Delivered()[n-1].Body)
	}
	return m[1]
}

// noFollow is b's cookie jar in a client that reports each answer instead
// of following its redirect, for requests whose next hop would send a
// code by itself.
func noFollow(b *e2e.Browser) *e2e.Browser {
	return &e2e.Browser{Client: &http.Client{Jar: b.Jar, Transport: b.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// registration is a member's browser at the passkey pages, and what the
// intruder tries there.
type registration struct {
	s    *e2e.Server
	b    *e2e.Browser
	pk   *softPasskey
	opts *virtualwebauthn.AttestationOptions
}

// begin posts the ceremony's start and keeps the options when it is
// granted; it returns the status and the body.
func (r *registration) begin(t *testing.T) (int, string) {
	t.Helper()
	status, body := postJSON(t, r.b, r.s, "/account/passkeys/begin", `{"name":"intruder"}`)
	if status == http.StatusOK {
		opts, err := virtualwebauthn.ParseAttestationOptions(body)
		if err != nil {
			t.Fatalf("registration options: %v\n%s", err, body)
		}
		r.opts = opts
	}
	return status, body
}

// finish posts an attestation of the virtual authenticator for the last
// granted options (or a well-formed one for none).
func (r *registration) finish(t *testing.T) (int, string) {
	t.Helper()
	att := `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"AAAA"},"clientExtensionResults":{}}`
	if r.opts != nil {
		r.pk.auth.Options.UserHandle = []byte(r.opts.UserID)
		att = virtualwebauthn.CreateAttestationResponse(r.pk.rp, r.pk.auth, r.pk.cred, *r.opts)
	}
	return postJSON(t, r.b, r.s, "/account/passkeys/finish", att)
}

// refused checks that the ceremony's begin and finish both answer 401
// otp_required, sending the page back to the registration page.
func (r *registration) refused(t *testing.T, what string) {
	t.Helper()
	// finish first: it carries the attestation of a ceremony granted
	// before, if any.
	for _, c := range []struct {
		name string
		call func(*testing.T) (int, string)
	}{{"finish", r.finish}, {"begin", r.begin}} {
		name := c.name
		status, body := c.call(t)
		if status != http.StatusUnauthorized || !strings.Contains(body, `"otp_required"`) || !strings.Contains(body, "/account/passkeys/new") {
			t.Errorf("%s: %s answered %d %s; want 401 otp_required pointing at the registration page", what, name, status, body)
		}
	}
	if p := noFollow(r.b).Get(t, r.s.Issuer+"/account/passkeys/new"); !r.toSMSGate(p) {
		t.Errorf("%s: the registration page answered %d (Location %q); want the code gate, by SMS only", what, p.Status, p.Location)
	}
	if m := passkeyIDRe.FindStringSubmatch(r.b.Get(t, r.s.Issuer+"/account/passkeys").Body); m != nil {
		t.Fatalf("%s: a passkey was registered (%s)", what, m[1])
	}
}

// toSMSGate is whether p sends the browser to the passkey gate asking for
// a code by SMS and by nothing else.
func (r *registration) toSMSGate(p e2e.Page) bool {
	u, err := url.Parse(p.Location)
	if p.Status != http.StatusSeeOther || err != nil || u.Path != "/account/otp" {
		return false
	}
	q := u.Query()
	return q.Get("purpose") == "passkey" && len(q["via"]) == 1 && q.Get("via") == "sms"
}

// passGate opens the gate at gateURL (which sends a code), posts code()
// on its form, and returns the gate's answer, unfollowed.
func (r *registration) passGate(t *testing.T, gateURL string, code func() string) e2e.Page {
	t.Helper()
	p := r.b.Get(t, gateURL)
	if p.URL.Path != "/account/otp" || p.Status != http.StatusOK {
		t.Fatalf("the gate %s: %d at %s", gateURL, p.Status, p.URL)
	}
	form := formFields(t, p, "/account/otp")
	form.Set("otp", code())
	return noFollow(r.b).Post(t, p.URL, "/account/otp", form)
}

// TestAttackPasskeyRegistrationWithoutSMSCode plays the intruder, logged
// in with the member's password, calling the registration endpoints
// directly: with no code; after passing the gate with a code by email
// (asking the gate itself for via=email, which the URL allows); after a
// fresh step-up code by email; and with an SMS code that has grown older
// than otp.step_up_max_age (set to 2s here) between begin and finish.
// Each is refused at begin and at finish, and no passkey is stored. Then
// the member, with a fresh SMS code, registers one: the endpoints do work.
func TestAttackPasskeyRegistrationWithoutSMSCode(t *testing.T) {
	const number, password, mail = "7300001", "Tsubasa-Hane-2026", "hane@example.com"
	const maxAge = 2 * time.Second
	s, smtp, sms := smsServer(t, e2e.OneServer, e2e.Options{Host: "localhost",
		Extra: "otp:\n  on_login: never\n  resend_interval: 1s\n  step_up_max_age: 2s\n"})
	s.CLI(t, false, "member", "create", "--number", number, "--password", password, "--family-name", "羽田",
		"--email", mail, "--phone", "+819012345678", "--country", "JP", "--locale", "ja")
	r := &registration{s: s, b: e2e.NewBrowser(t, s), pk: newSoftPasskey(t, s)}
	login := r.b.Get(t, s.Issuer+"/account/passkeys")
	if p := r.b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)},
		"member_number": {number}, "password": {password}}); p.URL.Path != "/account/passkeys" {
		t.Fatalf("the password login: %d at %s", p.Status, p.URL)
	}

	t.Run("no code", func(t *testing.T) {
		r.refused(t, "no code")
	})

	t.Run("a code by email at a gate asked for via=email", func(t *testing.T) {
		q := url.Values{"purpose": {"passkey"}, "via": {"email"}, "return": {"/account/passkeys/new"}}
		seen := len(e2e.CodeMails(smtp))
		res := r.passGate(t, s.Issuer+"/account/otp?"+q.Encode(), func() string { _, c := e2e.MailCode(t, smtp, seen+1); return c })
		if res.Status != http.StatusSeeOther {
			t.Fatalf("the gate with its email code: %d, want it passed (303)", res.Status)
		}
		r.refused(t, "an email code at the passkey gate")
	})

	t.Run("a fresh step-up code by email", func(t *testing.T) {
		seen := len(e2e.CodeMails(smtp))
		p := r.b.Get(t, s.Issuer+"/account/contacts")
		if p.URL.Path != "/login/otp" {
			t.Fatalf("contacts: %d at %s, want the step-up's code page", p.Status, p.URL)
		}
		_, code := e2e.MailCode(t, smtp, seen+1)
		if p = enterCode(t, r.b, p, code); p.URL.Path != "/account/contacts" {
			t.Fatalf("the step-up code: %d at %s, want the contacts page", p.Status, p.URL)
		}
		r.refused(t, "a step-up code by email")
	})

	gate := noFollow(r.b).Get(t, s.Issuer+"/account/passkeys/new")
	if !r.toSMSGate(gate) {
		t.Fatalf("the registration page: %d (Location %q), want the SMS gate", gate.Status, gate.Location)
	}
	gateURL := s.Issuer + gate.Location

	t.Run("an SMS code older than step_up_max_age", func(t *testing.T) {
		res := r.passGate(t, gateURL, func() string { return deliveredSMSCode(t, sms, 1) })
		if res.Status != http.StatusSeeOther || res.Location != "/account/passkeys/new" {
			t.Fatalf("the gate with its SMS code: %d to %q, want the registration page", res.Status, res.Location)
		}
		if status, body := r.begin(t); status != http.StatusOK {
			t.Fatalf("begin with a fresh SMS code: %d %s", status, body)
		}
		// The gate's time is kept in whole seconds: one more makes sure.
		time.Sleep(maxAge + 1100*time.Millisecond)
		r.refused(t, "an SMS code older than step_up_max_age")
	})

	t.Run("the member with a fresh SMS code", func(t *testing.T) {
		r.opts = nil
		if res := r.passGate(t, gateURL, func() string { return deliveredSMSCode(t, sms, 2) }); res.Status != http.StatusSeeOther {
			t.Fatalf("the gate with a new SMS code: %d", res.Status)
		}
		if status, body := r.begin(t); status != http.StatusOK {
			t.Fatalf("begin: %d %s", status, body)
		}
		if status, body := r.finish(t); status != http.StatusOK || !strings.Contains(body, "done=added") {
			t.Fatalf("finish: %d %s", status, body)
		}
		if passkeyIDRe.FindStringSubmatch(r.b.Get(t, s.Issuer+"/account/passkeys").Body) == nil {
			t.Error("the registered passkey is not listed")
		}
	})
}
