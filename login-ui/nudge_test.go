package loginui

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/sessions"

	"tsubasa/storage"
)

// TestMayNudge: a nudge only after a login made for this very request,
// once, never for the account pages' own logins or with prompt=none.
func TestMayNudge(t *testing.T) {
	req := storage.AuthRequest{ID: "r1", ClientID: "web"}
	sess := func(fresh, nudged string) *sessions.Session {
		s := sessions.NewSession(nil, "x")
		s.Values[keyFreshLogin], s.Values[keyNudged] = fresh, nudged
		return s
	}
	for _, tc := range []struct {
		name string
		sess *sessions.Session
		req  storage.AuthRequest
		want bool
	}{
		{"a login for this request", sess("r1", ""), req, true},
		{"an SSO answer (the login was for another request)", sess("r0", ""), req, false},
		{"no login", sess("", ""), req, false},
		{"already nudged", sess("r1", "r1"), req, false},
		{"nudged for another request", sess("r1", "r0"), req, true},
		{"the account pages", sess("r1", ""), storage.AuthRequest{ID: "r1", ClientID: AccountClientID}, false},
		{"prompt=none", sess("r1", ""), storage.AuthRequest{ID: "r1", ClientID: "web", Prompt: []string{"none"}}, false},
		{"no session", nil, req, false},
	} {
		if got := mayNudge(tc.sess, tc.req); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOfferCapabilities: only the capabilities the script may report are
// kept, for the request the form was for.
func TestOfferCapabilities(t *testing.T) {
	f := &passkeyFeature{}
	req := storage.AuthRequest{ID: "r1"}
	for form, want := range map[string][2]bool{
		"platform conditional":          {true, true},
		"platform":                      {true, false},
		"conditional":                   {false, true},
		"":                              {false, false},
		"platform<script> conditional2": {false, false},
		"platform platform junk":        {true, false},
	} {
		s := sessions.NewSession(nil, "x")
		r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"passkey_capable": {form}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		f.rememberCapabilities(r, s, req)
		if got := [2]bool{capable(s, req, capPlatform), capable(s, req, capConditional)}; got != want {
			t.Errorf("%q: %v, want %v", form, got, want)
		}
		if capable(s, storage.AuthRequest{ID: "r2"}, capPlatform) {
			t.Errorf("%q: capabilities count for another request", form)
		}
	}
}

func TestPasswordLogin(t *testing.T) {
	for amr, want := range map[string]bool{"pwd": true, "pwd otp mfa": true, "pin": true, "swk user": false, "hwk user": false, "pwd hwk": false, "otp": false} {
		if got := passwordLogin(strings.Fields(amr)); got != want {
			t.Errorf("passwordLogin(%s) = %v, want %v", amr, got, want)
		}
	}
}

// TestGateBack: a passed gate returns to an account page or to the
// passkey offer of a request, never elsewhere.
func TestGateBack(t *testing.T) {
	for in, want := range map[string]string{
		"/account/passkeys/new":                                      "/account/passkeys/new",
		"/login/passkey/offer?authRequestID=abc":                     "/login/passkey/offer?authRequestID=abc",
		"/login/passkey/offer?authRequestID=a&x=1":                   "/account",
		"/login/passkey/offer":                                       "/account",
		"https://evil.example/login/passkey/offer?authRequestID=abc": "/account",
		"//evil.example/login/passkey/offer?authRequestID=abc":       "/account",
		"/login/passkey/offer/../../x?authRequestID=abc":             "/account",
		"/login?authRequestID=abc":                                   "/account",
	} {
		if got := gateBack(in); got != want {
			t.Errorf("gateBack(%q) = %q, want %q", in, got, want)
		}
	}
}
