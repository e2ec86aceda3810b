package attack

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/risk"
)

// The lockout as a denial of service: five wrong passwords from anyone used
// to lock the member out of every browser, the right password included.
// A browser that has logged in as the member before (its device cookie) now
// keeps its own, smaller budget (lockout.known_device_max_failures, 3 by
// default); unknown browsers keep the member's lockout.

// freshPasswordLogin submits number and password on a fresh login page of rp
// in b (prompt=login, so an SSO session does not answer for it) and
// returns the answer: a redirect to rp with a code, 401 or 429.
func freshPasswordLogin(t *testing.T, b *e2e.Browser, rp *e2e.RP, number, password string) (e2e.Page, e2e.Flow) {
	t.Helper()
	f := e2e.NewFlow()
	p := b.Get(t, rp.AuthURL(f, oauth2.SetAuthURLParam("prompt", "login")))
	if p.Status != http.StatusOK {
		t.Fatalf("login page: status %d\n%s", p.Status, p.Body)
	}
	return b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {password}}), f
}

// mustLogInFrom checks that the right password logs in from b.
func mustLogInFrom(t *testing.T, what string, b *e2e.Browser, rp *e2e.RP, number, password string) {
	t.Helper()
	res, f := freshPasswordLogin(t, b, rp, number, password)
	if res.Location == "" {
		t.Fatalf("%s: status %d, want the redirect with a code", what, res.Status)
	}
	e2e.MustExchange(t, rp, f, e2e.Callback(t, res))
}

// mustBeLockedOut checks that the right password is refused with 429 from b.
func mustBeLockedOut(t *testing.T, what string, b *e2e.Browser, rp *e2e.RP, number, password string) {
	t.Helper()
	if res, _ := freshPasswordLogin(t, b, rp, number, password); res.Status != http.StatusTooManyRequests || res.Location != "" {
		t.Errorf("%s: status %d Location %q, want 429", what, res.Status, res.Location)
	}
}

// heldDeviceCookie is the device cookie b holds for s ("" without one).
func heldDeviceCookie(t *testing.T, s *e2e.Server, b *e2e.Browser) string {
	t.Helper()
	u, _ := url.Parse(s.Issuer)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == risk.CookieName {
			return c.Value
		}
	}
	return ""
}

// browserWithDeviceCookie is a fresh browser holding device cookie value.
func browserWithDeviceCookie(t *testing.T, s *e2e.Server, value string) *e2e.Browser {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	u, _ := url.Parse(s.Issuer)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: risk.CookieName, Value: value, Path: "/"}})
	return b
}

// lockMemberByGuessing is the attacker's five wrong passwords from a browser of
// its own.
func lockMemberByGuessing(t *testing.T, b *e2e.Browser, rp *e2e.RP) {
	t.Helper()
	for i := range 5 {
		if res, _ := freshPasswordLogin(t, b, rp, e2e.MemberNumber, fmt.Sprintf("Wrong-pass-%d", i)); res.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i+1, res.Status)
		}
	}
}

// WrongPasswordsLockMemberOutOfKnownBrowser: an attacker who
// knows only the member number sends five wrong passwords to lock the
// member out. Unknown browsers are locked (a new phone with the right
// password included), and neither a forged device cookie nor one of the
// attacker's own account opens another budget; the browser the member
// logged in from before still logs in with the right password.
func WrongPasswordsLockMemberOutOfKnownBrowser(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{})
	s.CLI(t, false, "member", "create", "--number", "1000011", "--password", "Umi-Yama-2026", "--family-name", "青木")
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")

	known := e2e.NewBrowser(t, s)
	mustLogInFrom(t, "first login of the member's browser", known, rp, e2e.MemberNumber, e2e.MemberPass)
	if heldDeviceCookie(t, s, known) == "" {
		t.Fatal("the member's browser got no device cookie at login")
	}
	attackers := e2e.NewBrowser(t, s)
	mustLogInFrom(t, "the attacker's own account", attackers, rp, "1000011", "Umi-Yama-2026")

	lockMemberByGuessing(t, attackers, rp)
	mustBeLockedOut(t, "right password from a new browser", e2e.NewBrowser(t, s), rp, e2e.MemberNumber, e2e.MemberPass)
	mustBeLockedOut(t, "right password with a forged device cookie", browserWithDeviceCookie(t, s, risk.NewDeviceCookie()), rp, e2e.MemberNumber, e2e.MemberPass)
	mustBeLockedOut(t, "right password with another member's device cookie",
		browserWithDeviceCookie(t, s, heldDeviceCookie(t, s, attackers)), rp, e2e.MemberNumber, e2e.MemberPass)
	mustLogInFrom(t, "right password from the member's known browser, after the attack", known, rp, e2e.MemberNumber, e2e.MemberPass)
}

// KnownBrowserOwnBudget: guesses from a known browser (a stolen
// or shared one) are not free: after known_device_max_failures of them the
// browser is locked too, right password included. They are its own: the
// member's other browsers are not locked by them.
func KnownBrowserOwnBudget(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{Extra: "lockout:\n  known_device_max_failures: 3\n"})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")

	known := e2e.NewBrowser(t, s)
	mustLogInFrom(t, "first login", known, rp, e2e.MemberNumber, e2e.MemberPass)
	for i := range 3 {
		if res, _ := freshPasswordLogin(t, known, rp, e2e.MemberNumber, fmt.Sprintf("Wrong-pass-%d", i)); res.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d from the known browser: status %d, want 401", i+1, res.Status)
		}
	}
	mustBeLockedOut(t, "right password from the known browser after 3 wrong ones", known, rp, e2e.MemberNumber, e2e.MemberPass)
	mustLogInFrom(t, "right password from another browser", e2e.NewBrowser(t, s), rp, e2e.MemberNumber, e2e.MemberPass)
}
