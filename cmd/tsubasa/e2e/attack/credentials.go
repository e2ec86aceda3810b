package attack

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// Security review, item 2: a credential is replaced only after the full
// authentication, second factor included. The set-password step of a login
// used to store the new password before the one-time-password step, so
// whoever held only the old secret could replace the member's credential
// and stop at the code.

const intruderPass = "Intruder-Choice-2026"

// wrongCode is a 6-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// NotMeIntruderSetsPassword: the member reports a login as not
// theirs. The intruder, who knows only the old password, logs in, chooses
// a new password and stops at the one-time password mailed to the member.
// Whatever otp.on_login says (with never, the intruder used to walk
// straight through), the intruder's choice must open nothing, and the
// member's own password must still lead to the member's new password.
func NotMeIntruderSetsPassword(t *testing.T, d e2e.Deployment) {
	for _, onLogin := range []string{"new_device", "never"} {
		t.Run("on_login="+onLogin, func(t *testing.T) {
			e := startCred(t, d, e2e.Options{}, "otp:\n  on_login: "+onLogin+"\n")
			member := e2e.NewBrowser(t, e.s)
			confirm := e.account(t, member, "/account/not-me")
			if done := member.Post(t, confirm.URL, "/account/not-me", nil); done.URL.Path != "/login" {
				t.Fatalf("after reporting, the member is at %s", done.URL)
			}

			intruder := e2e.NewBrowser(t, e.s)
			res := postLogin(t, intruder, e.rp.AuthURL(e2e.NewFlow()), e2e.MemberNumber, e2e.MemberPass)
			if res.URL.Path != "/login/password" {
				t.Fatalf("the old password after the report: %d at %s, want the new-password step", res.Status, res.URL)
			}
			seen := e.codes()
			res = intruder.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {res.AuthRequestID(t)},
				"new_password": {intruderPass}, "confirm_password": {intruderPass}})
			if res.URL.Path != "/login/otp" || res.Location != "" {
				t.Fatalf("the intruder was not stopped at the one-time password: %d at %s (location %q)", res.Status, res.URL, res.Location)
			}
			code := e.code(t, seen) // mailed to the member, not to the intruder
			if guess := intruder.Post(t, res.URL, "/login/otp", url.Values{"authRequestID": {res.AuthRequestID(t)}, "otp": {wrongCode(code)}}); guess.Status != http.StatusUnauthorized {
				t.Errorf("a guessed code: %d at %s", guess.Status, guess.URL)
			}
			// The intruder gives up here.
			if r := e.tryPassword(t, e2e.MemberNumber, intruderPass); r.Status != http.StatusUnauthorized {
				t.Errorf("the intruder's chosen password opens the account: %d at %s", r.Status, r.URL)
			}
			own := e.tryPassword(t, e2e.MemberNumber, e2e.MemberPass)
			if own.URL.Path != "/login/password" {
				t.Fatalf("the member's own password no longer leads to the new password: %d at %s", own.Status, own.URL)
			}

			// The member, holding the mailbox, finishes: within the resend
			// interval the page offers the code already mailed.
			b := e2e.NewBrowser(t, e.s)
			f := e2e.NewFlow()
			res = postLogin(t, b, e.rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)
			res = b.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {res.AuthRequestID(t)},
				"new_password": {"Members-Own-2027"}, "confirm_password": {"Members-Own-2027"}})
			if res.URL.Path != "/login/otp" || !strings.Contains(res.Body, `name="otp"`) {
				t.Fatalf("the member's new password: %d at %s, want the one-time password", res.Status, res.URL)
			}
			done := b.Post(t, res.URL, "/login/otp", url.Values{"authRequestID": {res.AuthRequestID(t)}, "otp": {code}})
			e2e.MustExchange(t, e.rp, f, e2e.Callback(t, done))
			if r := e.tryPassword(t, e2e.MemberNumber, e2e.MemberPass); r.Status != http.StatusUnauthorized {
				t.Errorf("the old password still works after the member's change: %d at %s", r.Status, r.URL)
			}
		})
	}
}

// NotMeWithoutContactEndsAtTheDesk: after "this wasn't me", a
// member with no confirmed contact cannot be sent a code. The intruder
// with the old password must not get through the web at all (nor set a
// password); the page sends the member to the membership desk.
func NotMeWithoutContactEndsAtTheDesk(t *testing.T, d e2e.Deployment) {
	e := startCred(t, d, e2e.Options{}, "otp:\n  on_login: never\nbrand:\n  support_url: https://help.tsubasa.test/\n")
	const number, pass = "7000111", "Hanabi-Sky-2026"
	e.s.CLI(t, false, "member", "create", "--number", number, "--password", pass, "--family-name", "星野", "--country", "JP")
	member := e2e.NewBrowser(t, e.s)
	page := member.Get(t, e.s.Issuer+"/account/not-me")
	page = member.Post(t, page.URL, "/login", url.Values{"authRequestID": {page.AuthRequestID(t)}, "member_number": {number}, "password": {pass}})
	if done := member.Post(t, page.URL, "/account/not-me", nil); done.URL.Path != "/login" {
		t.Fatalf("after reporting: %d at %s", done.Status, done.URL)
	}
	intruder := e2e.NewBrowser(t, e.s)
	res := postLogin(t, intruder, e.rp.AuthURL(e2e.NewFlow()), number, pass)
	if res.Location != "" || res.Status != http.StatusForbidden || !strings.Contains(res.Body, "会員窓口") ||
		!strings.Contains(res.Body, "https://help.tsubasa.test/") {
		t.Fatalf("without a contact after the report: %d at %s (location %q), want the desk\n%s", res.Status, res.URL, res.Location, res.Body)
	}
	// Posting a new password anyway changes nothing, and no step lets the
	// login through.
	id := res.URL.Query().Get("authRequestID")
	for _, path := range []string{"/login/password", "/login/otp"} {
		p := intruder.Post(t, res.URL, path, url.Values{"authRequestID": {id},
			"new_password": {intruderPass}, "confirm_password": {intruderPass}, "otp": {"000000"}})
		if p.Location != "" || p.Status < 400 {
			t.Errorf("POST %s: %d at %s (location %q)", path, p.Status, p.URL, p.Location)
		}
	}
	if r := e.tryPassword(t, number, intruderPass); r.Status != http.StatusUnauthorized {
		t.Errorf("the intruder's chosen password opens the account: %d at %s", r.Status, r.URL)
	}
}

// PINHolderSetsWebPassword: anyone who knows a member's 6-digit
// telephone PIN could log in on the web while the migration is open and
// set the web password, locking the member out. For a member with a
// confirmed contact the password is stored only after the code sent there.
// A member with no contact at all still migrates with the PIN, as the
// programme's migration allows (nothing could be sent to them).
func PINHolderSetsWebPassword(t *testing.T, d e2e.Deployment) {
	e := startCred(t, d, e2e.Options{}, "otp:\n  on_login: never\n")
	const number, pin = "8888888", "135790"
	e.s.CLI(t, false, "member", "create", "--number", number, "--pin", pin, "--family-name", "山田", "--email", "taro@example.com")

	attacker := e2e.NewBrowser(t, e.s)
	res := postLogin(t, attacker, e.rp.AuthURL(e2e.NewFlow()), number, pin)
	if res.URL.Path != "/login/password" {
		t.Fatalf("PIN login: %d at %s, want the set-password step", res.Status, res.URL)
	}
	res = attacker.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {res.AuthRequestID(t)},
		"new_password": {intruderPass}, "confirm_password": {intruderPass}})
	if res.URL.Path != "/login/otp" || res.Location != "" {
		t.Fatalf("the PIN holder was not stopped at the one-time password: %d at %s (location %q)", res.Status, res.URL, res.Location)
	}
	if r := e.tryPassword(t, number, intruderPass); r.Status != http.StatusUnauthorized {
		t.Errorf("the PIN holder's chosen password opens the account: %d at %s", r.Status, r.URL)
	}
	if r := e.tryPassword(t, number, pin); r.URL.Path != "/login/password" {
		t.Errorf("the member can no longer migrate with the PIN: %d at %s", r.Status, r.URL)
	}

	t.Run("no contact: the migration stays usable", func(t *testing.T) {
		const number, pin = "8888889", "246813"
		e.s.CLI(t, false, "member", "create", "--number", number, "--pin", pin, "--family-name", "山田")
		b := e2e.NewBrowser(t, e.s)
		f := e2e.NewFlow()
		res := postLogin(t, b, e.rp.AuthURL(f), number, pin)
		done := b.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {res.AuthRequestID(t)},
			"new_password": {"Kumo-Sora-77"}, "confirm_password": {"Kumo-Sora-77"}})
		_, idt := e2e.MustExchange(t, e.rp, f, e2e.Callback(t, done))
		var c struct {
			AMR []string `json:"amr"`
		}
		if err := idt.Claims(&c); err != nil || !slices.Contains(c.AMR, "pin") {
			t.Errorf("migration without a contact: amr %v, %v", c.AMR, err)
		}
	})
}

// LoginBegunBeforeResetOverwritesIt: a login that began with the
// old credential (here the PIN) holds its new password while it waits for
// the code; meanwhile the member resets the password. Completing the old
// login must not overwrite the reset's password: it is void.
func LoginBegunBeforeResetOverwritesIt(t *testing.T, d e2e.Deployment) {
	e := startCred(t, d, e2e.Options{}, "otp:\n  on_login: never\n")
	const number, pin = "8888888", "135790"
	e.s.CLI(t, false, "member", "create", "--number", number, "--pin", pin, "--family-name", "山田", "--email", "taro@example.com")
	old := e2e.NewBrowser(t, e.s)
	res := postLogin(t, old, e.rp.AuthURL(e2e.NewFlow()), number, pin)
	seen := e.codes()
	res = old.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {res.AuthRequestID(t)},
		"new_password": {intruderPass}, "confirm_password": {intruderPass}})
	if res.URL.Path != "/login/otp" {
		t.Fatalf("after choosing a password: %d at %s, want the one-time password", res.Status, res.URL)
	}
	loginCode := e.code(t, seen)

	// The reset, in another browser.
	r := e2e.NewBrowser(t, e.s)
	form := r.Get(t, e.s.Issuer+"/login/reset")
	seen = e.codes()
	sent := r.Post(t, form.URL, "/login/reset", url.Values{"member_number": {number}})
	pw := r.Post(t, sent.URL, "/login/reset/code", url.Values{"otp": {e.code(t, seen)}})
	const resetPass = "Reset-By-Member-2027"
	if done := r.Post(t, pw.URL, "/login/reset/password", url.Values{"new_password": {resetPass}, "confirm_password": {resetPass}}); done.URL.Path != "/login/reset/done" {
		t.Fatalf("reset: %d at %s", done.Status, done.URL)
	}

	late := old.Post(t, res.URL, "/login/otp", url.Values{"authRequestID": {res.AuthRequestID(t)}, "otp": {loginCode}})
	if late.Location != "" || late.Status != http.StatusConflict {
		t.Errorf("the login begun before the reset: %d at %s (location %q), want it refused", late.Status, late.URL, late.Location)
	}
	if p := e.tryPassword(t, number, intruderPass); p.Status != http.StatusUnauthorized {
		t.Errorf("the old login's password overwrote the reset's: %d at %s", p.Status, p.URL)
	}
	f := e2e.NewFlow()
	e2e.MustExchange(t, e.rp, f, e2e.Login(t, e2e.NewBrowser(t, e.s), e.rp.AuthURL(f), number, resetPass))
}
