package attack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// offerLogin logs the test member in from b through rp as a browser that
// can create a passkey says so (the login page's script adds
// passkey_capable), and returns the page it lands on: the passkey offer.
func offerLogin(t *testing.T, b *e2e.Browser, rp *e2e.RP, number, password string) e2e.Page {
	t.Helper()
	p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	return b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {number}, "password": {password}, "passkey_capable": {"platform conditional"}})
}

// TestAttackPasskeyOfferForAnotherBrowsersRequest: an attacker who learnt
// the id of a victim's authorization request that is at the passkey offer
// (a shoulder, a shared link, a log) opens the offer in a browser of their
// own, logged in or not: the page, "not now", the ceremony's calls and
// "continue" all refuse another browser's request (403), so the attacker
// can neither finish the victim's login into the app with their own
// session, nor add a passkey to it, nor spend the victim's offer. The
// victim's login goes on untouched.
func TestAttackPasskeyOfferForAnotherBrowsersRequest(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Host: "localhost", Extra: "passkeys:\n  registration_requires: any_otp\n"})
	s.CLI(t, false, "member", "create", "--number", "1000012", "--password", "Umi-Yama-2026", "--family-name", "青木", "--email", "aoki@example.com")
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")

	victim := e2e.NewBrowser(t, s)
	offer := offerLogin(t, victim, rp, e2e.MemberNumber, e2e.MemberPass)
	if offer.URL.Path != "/login/passkey/offer" || offer.Status != http.StatusOK {
		t.Fatalf("the victim's login: %d at %s, want the passkey offer", offer.Status, offer.URL)
	}
	id := offer.URL.Query().Get("authRequestID")
	q := "?authRequestID=" + url.QueryEscape(id)

	stranger := e2e.NewBrowser(t, s)
	loggedIn := e2e.NewBrowser(t, s)
	if p := offerLogin(t, loggedIn, rp, "1000012", "Umi-Yama-2026"); p.URL.Path != "/login/passkey/offer" {
		t.Fatalf("the attacker's own login: %d at %s", p.Status, p.URL)
	}
	for name, b := range map[string]*e2e.Browser{"a stranger's browser": stranger, "the attacker logged in as themselves": loggedIn} {
		t.Run(name, func(t *testing.T) {
			for what, p := range map[string]e2e.Page{
				"the offer":  b.Get(t, s.Issuer+"/login/passkey/offer"+q),
				"not now":    b.Post(t, offer.URL, "/login/passkey/offer", url.Values{"authRequestID": {id}}),
				"continue":   b.Get(t, s.Issuer+"/login/passkey/offer/continue"+q),
				"the begin":  softPasskeyAttempt(t, s, b, "/login/passkey/offer/begin"+q, `{}`),
				"the finish": softPasskeyAttempt(t, s, b, "/login/passkey/offer/finish"+q, `{"id":"x"}`),
			} {
				if p.Status != http.StatusForbidden || p.Location != "" || strings.Contains(p.Body, "code=") {
					t.Errorf("%s for the victim's request: %d, Location %q; want 403", what, p.Status, p.Location)
				}
			}
		})
	}
	// The victim's request is still theirs, at the offer, and goes on.
	p := victim.Post(t, offer.URL, "/login/passkey/offer", url.Values{"authRequestID": {id}})
	if cb := e2e.Callback(t, p); cb.Query().Get("code") == "" {
		t.Errorf("the victim's login after the attack: %s", cb)
	}
}

// softPasskeyAttempt posts a JSON body as the offer page's script does and
// returns the answer whatever it is.
func softPasskeyAttempt(t *testing.T, s *e2e.Server, b *e2e.Browser, path, body string) e2e.Page {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	return b.Send(t, req)
}
