package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestPasskeyRequiredForPHR: a relying party asking for acr phr gets no
// password-level answer: after the password the member is asked for a
// passkey, and declining returns access_denied to the app.
func TestPasskeyRequiredForPHR(t *testing.T) {
	s := StartWithMember(t, Options{Host: "localhost"})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	f := NewFlow()
	p := b.Get(t, rp.AuthURL(f, oauth2.SetAuthURLParam("acr_values", "phr")))
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if res.Status != http.StatusOK || res.URL.Path != "/login/passkey/required" {
		t.Fatalf("password login for acr phr: %d at %s, want the passkey step", res.Status, res.URL)
	}
	for _, want := range []string{`id="passkey-login"`, `/static/passkey.js`, `action="/login/passkey/required/cancel"`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("passkey step lacks %s", want)
		}
	}
	cb := Callback(t, b.Post(t, res.URL, "/login/passkey/required/cancel", url.Values{"authRequestID": {res.AuthRequestID(t)}}))
	if e := cb.Query().Get("error"); e != "access_denied" || cb.Query().Get("state") != f.State {
		t.Errorf("declining the passkey: %s, want access_denied with the state", cb)
	}
	// The same member asking for less is served from the password alone.
	f2 := NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f2, Login(t, NewBrowser(t, s), rp.AuthURL(f2), MemberNumber, MemberPass)); err != nil {
		t.Errorf("password login without acr_values: %v", err)
	}
}
