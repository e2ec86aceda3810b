package attack

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// Security review, item 3: a credential change left the intruder's
// session, access token and 30-day refresh token working. Each change
// (password, reset, contact, "this wasn't me", an operator's new password,
// a passkey removed) must end every session of the member and revoke
// every token, the intruder's stealthy ones included; the browser the
// member made the change in stays logged in only where the configuration
// says so.

const changedPass = "Changed-Sky-2027"

const (
	noticeOthers = "ほかのすべての端末からログアウトしました"
	noticeAll    = "この端末を含むすべての端末からログアウトしました"
)

// credentialChange makes a change as the member would and returns the
// member's browser (nil when the change is made without one).
type credentialChange func(t *testing.T, e *credEnv, kept bool) *e2e.Browser

func changePassword(t *testing.T, e *credEnv, kept bool) *e2e.Browser {
	m := e2e.NewBrowser(t, e.s)
	page := e.account(t, m, "/account/password")
	res := m.Post(t, page.URL, "/account/password", url.Values{"password": {e2e.MemberPass},
		"new_password": {changedPass}, "confirm_password": {changedPass}})
	if kept {
		if res.URL.Path != "/account" || !strings.Contains(res.Body, noticeOthers) {
			t.Errorf("after the change: %d at %s, want the account page saying other devices were signed out", res.Status, res.URL)
		}
		return m
	}
	if res.URL.Path != "/login" {
		t.Fatalf("after the change, with the current browser not kept: %d at %s, want a new login", res.Status, res.URL)
	}
	home := m.Post(t, res.URL, "/login", url.Values{"authRequestID": {res.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {changedPass}})
	if home.URL.Path != "/account" || !strings.Contains(home.Body, noticeAll) {
		t.Errorf("after logging in again: %d at %s, want the account page saying every device was signed out", home.Status, home.URL)
	}
	return nil // logged in again, with the new password
}

func resetPassword(t *testing.T, e *credEnv, _ bool) *e2e.Browser {
	r := e2e.NewBrowser(t, e.s)
	form := r.Get(t, e.s.Issuer+"/login/reset")
	seen := e.codes()
	sent := r.Post(t, form.URL, "/login/reset", url.Values{"member_number": {e2e.MemberNumber}})
	pw := r.Post(t, sent.URL, "/login/reset/code", url.Values{"otp": {e.code(t, seen)}})
	done := r.Post(t, pw.URL, "/login/reset/password", url.Values{"new_password": {changedPass}, "confirm_password": {changedPass}})
	if done.URL.Path != "/login/reset/done" || !strings.Contains(done.Body, noticeAll) {
		t.Errorf("reset done page: %d at %s, want it to say every device was signed out", done.Status, done.URL)
	}
	return nil
}

func changeEmail(t *testing.T, e *credEnv, kept bool) *e2e.Browser {
	m := e2e.NewBrowser(t, e.s)
	page := e.account(t, m, "/account/contacts")
	seen := e.codes()
	verify := m.Post(t, page.URL, "/account/contacts/email", url.Values{"email": {"hanako.new@example.org"}})
	saved := m.Post(t, verify.URL, "/account/contacts/verify", url.Values{"otp": {e.code(t, seen)}})
	want, path := noticeOthers, "/account/contacts"
	if !kept {
		want, path = "", "/login"
	}
	if saved.URL.Path != path || !strings.Contains(saved.Body, want) || saved.URL.Query().Get("done") == "" && kept {
		t.Errorf("after the new address: %d at %s, want %s", saved.Status, saved.URL, path)
	}
	return m
}

func reportNotMe(t *testing.T, e *credEnv, _ bool) *e2e.Browser {
	m := e2e.NewBrowser(t, e.s)
	confirm := e.account(t, m, "/account/not-me")
	m.Post(t, confirm.URL, "/account/not-me", nil)
	return m
}

func operatorPassword(t *testing.T, e *credEnv, _ bool) *e2e.Browser {
	out := e.s.CLI(t, false, "member", "set-password", e2e.MemberNumber, "--password", changedPass)
	if !strings.Contains(out, "ended") {
		t.Errorf("member set-password does not say what it ended:\n%s", out)
	}
	return nil
}

// IntruderSessionSurvivesCredentialChange: the intruder holds a
// session with the app's tokens, and a stealthy refresh token (from a
// browser it dropped, keeping only the token). The
// member's own app tokens from before the change go too: apps sign in
// again, linked or not. With case names, only those cases are played (a
// deployment that is slow to start plays the ones it has something to
// add to); a name that is no case fails the test.
func IntruderSessionSurvivesCredentialChange(t *testing.T, d e2e.Deployment, cases ...string) {
	played := 0
	defer func() {
		if len(cases) > 0 && played != len(cases) {
			t.Errorf("cases %q: %d of them are cases of this scenario", cases, played)
		}
	}()
	for _, tc := range []struct {
		name   string
		extra  string
		kept   bool // the member's browser stays logged in
		change credentialChange
	}{
		{"password change", "", true, changePassword},
		{"password change, current browser not kept", "session:\n  keep_current_on_credential_change: false\n", false, changePassword},
		{"reset", "", false, resetPassword},
		{"contact change", "", true, changeEmail},
		{"contact change, current browser not kept", "session:\n  keep_current_on_credential_change: false\n", false, changeEmail},
		{"this wasn't me", "", false, reportNotMe},
		{"operator set-password", "", false, operatorPassword},
	} {
		if len(cases) > 0 && !slices.Contains(cases, tc.name) {
			continue
		}
		played++
		t.Run(tc.name, func(t *testing.T) {
			e := startCred(t, d, e2e.Options{}, "otp:\n  on_login: never\n"+tc.extra)
			intruder := e.loginApp(t)
			e.mustWork(t, intruder, "intruder")
			hidden := e.stealth(t)
			own := e.loginApp(t) // the member's app, before the change

			m := tc.change(t, e, tc.kept)

			e.mustBeGone(t, intruder, "the intruder's session")
			if _, err := e2e.Refresh(t, e.rp, hidden.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
				t.Errorf("the intruder's stealthy refresh token: %v, want invalid_grant", err)
			}
			if _, err := e2e.Refresh(t, e.rp, own.tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
				t.Errorf("an app's refresh token from before the change: %v, want invalid_grant", err)
			}
			if m == nil {
				return
			}
			p := m.Get(t, e.s.Issuer+"/account")
			if stays := p.URL.Path == "/account"; stays != tc.kept {
				t.Errorf("the member's browser after the change is at %s; kept %v, want %v", p.URL, stays, tc.kept)
			}
			if tc.kept && !e.ssoAnswers(t, m) {
				t.Error("the kept browser's session does not answer the app")
			}
		})
	}
}

// IntruderSessionSurvivesPasskeyRemoval: the member removes a
// passkey (lost phone); the intruder's session and tokens end with it.
func IntruderSessionSurvivesPasskeyRemoval(t *testing.T, d e2e.Deployment) {
	e := startCred(t, d, e2e.Options{Host: "localhost"}, "otp:\n  on_login: never\npasskeys:\n  registration_requires: any_otp\n")
	m := e2e.NewBrowser(t, e.s)
	id := e.registerPasskey(t, m)

	intruder := e.loginApp(t)
	e.mustWork(t, intruder, "intruder")
	hidden := e.stealth(t)

	confirm := e.account(t, m, "/account/passkeys/"+id+"/delete")
	if !strings.Contains(confirm.Body, "ほかのすべての端末からログアウトし") {
		t.Errorf("the confirmation does not warn that other devices will be signed out:\n%s", confirm.Body)
	}
	done := m.Post(t, confirm.URL, "/account/passkeys/"+id+"/delete", nil)
	if done.URL.Path != "/account/passkeys" || !strings.Contains(done.Body, noticeOthers) {
		t.Errorf("after removing: %d at %s, want the list saying other devices were signed out", done.Status, done.URL)
	}
	e.mustBeGone(t, intruder, "the intruder's session")
	if _, err := e2e.Refresh(t, e.rp, hidden.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("the intruder's stealthy refresh token: %v, want invalid_grant", err)
	}
	if p := m.Get(t, e.s.Issuer+"/account"); p.Status != http.StatusOK || p.URL.Path != "/account" {
		t.Errorf("the member's browser was signed out: %d at %s", p.Status, p.URL)
	}
}
