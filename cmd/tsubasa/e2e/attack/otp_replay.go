package attack

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// One-time passwords played again: a code that has already let someone
// in, a code a newer one replaced, a code mailed for one purpose entered
// for another, a code past its lifetime, and another member's code. The
// attacker here knows the victim's password (credential stuffing) and has
// seen a code one way or another (a shoulder, a forwarded SMS, a mailbox
// read later); what the code opens is the question.

const acrOTP = "urn:tsubasa:acr:otp"

// The answers of the code page (login-ui/locales/ja/otp.json).
const (
	msgWrongCode = "ワンタイムパスワードが正しくありません"
	msgUsed      = "このワンタイムパスワードは使用済みです"
	msgExpired   = "ワンタイムパスワードの有効期限が切れました"
)

var codeRe = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// mailedCode waits for the n-th code mail (from 1) sent to addr and
// returns its code.
func mailedCode(t *testing.T, smtp *notifytest.SMTPServer, addr string, n int) string {
	t.Helper()
	to := func() []notifytest.ReceivedMail {
		return slices.DeleteFunc(e2e.CodeMails(smtp), func(m notifytest.ReceivedMail) bool { return !slices.Contains(m.To, addr) })
	}
	smtp.WaitFor(t, func(notifytest.ReceivedMail) bool { return len(to()) >= n }, 20*time.Second)
	return codeRe.FindStringSubmatch(to()[n-1].Text)[1]
}

// otpLogin opens rp's authorization URL in b (asking for acr otp, so that
// the login owes a code whatever otp.on_login says) and posts number and
// password; it returns the code page.
func otpLogin(t *testing.T, rp *e2e.RP, b *e2e.Browser, number, password string) e2e.Page {
	t.Helper()
	p := postLogin(t, b, rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("acr_values", acrOTP)), number, password)
	if p.URL.Path != "/login/otp" {
		t.Fatalf("after the password of %s: %d at %s, want the code page", number, p.Status, p.URL)
	}
	return p
}

// enterCode posts code on a code page p (the login's step, or an account
// page's step-up) and returns the answer.
func enterCode(t *testing.T, b *e2e.Browser, p e2e.Page, code string) e2e.Page {
	t.Helper()
	return b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
}

// codeRefused checks that answer refused a code with the page's message
// msg: no redirect anywhere, 401, the code form's page.
func codeRefused(t *testing.T, what string, answer e2e.Page, msg string) {
	t.Helper()
	if answer.Location != "" || answer.Status != http.StatusUnauthorized || !strings.Contains(alertText(answer.Body), msg) {
		t.Errorf("%s: %d at %s (Location %q), message %q; want 401 saying %q", what, answer.Status, answer.URL, answer.Location, alertText(answer.Body), msg)
	}
}

// codeAccepted checks that answer is the relying party's callback with a
// code: the login the code belonged to was open all along.
func codeAccepted(t *testing.T, what string, answer e2e.Page) {
	t.Helper()
	if cb := e2e.Callback(t, answer); cb.Query().Get("code") == "" {
		t.Errorf("%s: callback %s, want a code", what, cb)
	}
}

// OTPReplay: each code opens exactly the one thing it was sent
// for, once, while it is the newest and within its lifetime. Three
// servers: the main one with the default resend interval (1 minute: a
// new login within it gets no new code, so a used code stays the one on
// record), one with otp.resend_interval 1s (a newer code can be asked for
// at once), and one with otp.ttl 1s. The server's clock cannot be moved
// from outside, so the 10-minute default lifetime is played as a
// 1-second one (otp.ttl, any positive duration): the check is the same.
func OTPReplay(t *testing.T, d e2e.Deployment) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := d.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: "otp:\n  on_login: never\n"})
	const (
		victim2, victim2Pass, victim2Mail = "7100002", "Sora-Umi-2026", "sora@example.com"
		attacker, attackerPass            = "7100009", "Kuro-Neko-2026"
		attackerMail, attackerInbox       = "attacker@evil.example", "sora.backup@evil.example"
	)
	s.CLI(t, false, "member", "create", "--number", victim2, "--password", victim2Pass, "--family-name", "青空", "--email", victim2Mail)
	s.CLI(t, false, "member", "create", "--number", attacker, "--password", attackerPass, "--family-name", "黒田", "--email", attackerMail)
	rp := e2e.NewRP(t, s, "web", e2e.WebSecret)
	const victimMail = "hanako@example.com"

	t.Run("another member's code", func(t *testing.T) {
		// The attacker's own login sends a code to the attacker; it stays
		// unused, so a server checking "any open code" would take it.
		otpLogin(t, rp, e2e.NewBrowser(t, s), attacker, attackerPass)
		own := mailedCode(t, smtp, attackerMail, 1)
		b := e2e.NewBrowser(t, s)
		page := otpLogin(t, rp, b, e2e.MemberNumber, e2e.MemberPass)
		codeRefused(t, "the attacker's own code in the victim's login", enterCode(t, b, page, own), msgWrongCode)
		codeAccepted(t, "the victim's code in the same login", enterCode(t, b, page, mailedCode(t, smtp, victimMail, 1)))
	})

	t.Run("a code used twice", func(t *testing.T) {
		// The attacker logs in as the victim while the victim does: within
		// the resend interval no new code is sent, so both code pages wait
		// for the same one. The victim enters it first; the attacker, who
		// saw it, enters it after.
		v := e2e.NewBrowser(t, s)
		victimPage := otpLogin(t, rp, v, e2e.MemberNumber, e2e.MemberPass)
		code := mailedCode(t, smtp, victimMail, 2)
		a := e2e.NewBrowser(t, s)
		attackerPage := otpLogin(t, rp, a, e2e.MemberNumber, e2e.MemberPass)
		codeAccepted(t, "the victim's code", enterCode(t, v, victimPage, code))
		codeRefused(t, "the same code in the attacker's login", enterCode(t, a, attackerPage, code), msgUsed)
	})

	t.Run("a code of one purpose used for another", func(t *testing.T) {
		// The attacker holds victim2's password session (no second factor
		// yet) and wants the account pages, which ask for a fresh code.
		session := e2e.NewBrowser(t, s)
		if p := postLogin(t, session, rp.AuthURL(e2e.NewFlow()), victim2, victim2Pass); p.Location == "" {
			t.Fatalf("victim2's password login: %d at %s", p.Status, p.URL)
		}
		// A login elsewhere owes a code (purpose login), still unused.
		login := e2e.NewBrowser(t, s)
		loginPage := otpLogin(t, rp, login, victim2, victim2Pass)
		loginCode := mailedCode(t, smtp, victim2Mail, 1)
		// The step-up of the account pages (purpose step-up).
		stepUp := session.Get(t, s.Issuer+"/account/contacts")
		if stepUp.URL.Path != "/login/otp" {
			t.Fatalf("contacts from a password session: %d at %s, want the step-up's code page", stepUp.Status, stepUp.URL)
		}
		codeRefused(t, "the login's code at the step-up", enterCode(t, session, stepUp, loginCode), msgWrongCode)
		contacts := enterCode(t, session, stepUp, mailedCode(t, smtp, victim2Mail, 2))
		if contacts.URL.Path != "/account/contacts" || contacts.Status != http.StatusOK {
			t.Fatalf("the step-up's own code: %d at %s, want the contacts page", contacts.Status, contacts.URL)
		}
		// A contact check sends its code to the new address, which the
		// attacker chooses: it must open nothing but that check.
		verify := session.Post(t, contacts.URL, "/account/contacts/email", url.Values{"email": {attackerInbox}})
		if verify.URL.Path != "/account/contacts/verify" {
			t.Fatalf("a new address: %d at %s, want its code entry", verify.Status, verify.URL)
		}
		contactCode := mailedCode(t, smtp, attackerInbox, 1)
		refused := session.Post(t, verify.URL, "/account/contacts/verify", url.Values{"otp": {loginCode}})
		codeRefused(t, "the login's code at the contact check", refused, msgWrongCode)
		codeRefused(t, "the contact check's code at the login", enterCode(t, login, loginPage, contactCode), msgWrongCode)
		// Each code still opens what it was sent for.
		codeAccepted(t, "the login's own code", enterCode(t, login, loginPage, loginCode))
		saved := session.Post(t, verify.URL, "/account/contacts/verify", url.Values{"otp": {contactCode}})
		if saved.URL.Path != "/account/contacts" || saved.URL.Query().Get("done") == "" {
			t.Errorf("the contact check's own code: %d at %s, want the contacts page saying it is saved", saved.Status, saved.URL)
		}
	})

	t.Run("an older code after a newer one was sent", func(t *testing.T) {
		smtp := notifytest.NewSMTPServer(t)
		_, port := smtp.Addr()
		s := d.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: "otp:\n  on_login: always\n  resend_interval: 1s\n"})
		rp := e2e.NewRP(t, s, "web", e2e.WebSecret)
		// The attacker's login sends the code the attacker then intercepts.
		a := e2e.NewBrowser(t, s)
		attackerPage := otpLogin(t, rp, a, e2e.MemberNumber, e2e.MemberPass)
		older := mailedCode(t, smtp, victimMail, 1)
		// The member logs in too and is sent a newer code, which replaces it.
		time.Sleep(1100 * time.Millisecond) // otp.resend_interval
		v := e2e.NewBrowser(t, s)
		memberPage := otpLogin(t, rp, v, e2e.MemberNumber, e2e.MemberPass)
		newer := mailedCode(t, smtp, victimMail, 2)
		if newer == older {
			t.Skip("the two random codes are equal (one chance in a million): nothing to tell apart")
		}
		codeRefused(t, "the older code after a newer one", enterCode(t, a, attackerPage, older), msgWrongCode)
		codeAccepted(t, "the member's newer code", enterCode(t, v, memberPage, newer))
	})

	t.Run("a code past its lifetime", func(t *testing.T) {
		smtp := notifytest.NewSMTPServer(t)
		_, port := smtp.Addr()
		s := d.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: "otp:\n  on_login: always\n  ttl: 1s\n"})
		rp := e2e.NewRP(t, s, "web", e2e.WebSecret)
		b := e2e.NewBrowser(t, s)
		page := otpLogin(t, rp, b, e2e.MemberNumber, e2e.MemberPass)
		code := mailedCode(t, smtp, victimMail, 1)
		time.Sleep(1500 * time.Millisecond) // past otp.ttl
		codeRefused(t, "the right code after its lifetime", enterCode(t, b, page, code), msgExpired)
	})
}
