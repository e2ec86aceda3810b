package loginui

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/storage"
)

// get fetches path with c and returns the response and its body.
func (f *riskFixture) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	return f.do(t, c, http.MethodGet, path)
}

func (f *riskFixture) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(f.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *riskFixture) update(t *testing.T, fn func(storage.Member) storage.Member) storage.Member {
	t.Helper()
	if err := f.st.UpdateMember(t.Context(), f.member.ID, func(m storage.Member) (storage.Member, error) { return fn(m), nil }); err != nil {
		t.Fatal(err)
	}
	m, err := f.st.MemberByID(t.Context(), f.member.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSecondFactorOwedWithoutOTP: after "this wasn't me" the next login
// owes a second factor. Where none can be given (here the one-time
// password feature is off and the member has no passkey), the login stops
// at once with the membership desk, and nothing is stored.
func TestSecondFactorOwedWithoutOTP(t *testing.T) {
	f := newRiskFixture(t, false)
	a := f.browser(t, uaChrome)
	f.login(t, a)
	if resp, _ := f.do(t, a, http.MethodPost, "/account/not-me"); resp.Request.URL.Path != "/login" {
		t.Fatalf("after not-me at %s", resp.Request.URL)
	}
	before, _ := f.st.MemberByID(t.Context(), f.member.ID)
	if !before.SecondFactorDue || !before.MustChangePassword {
		t.Fatalf("not-me left second factor %v, must change %v", before.SecondFactorDue, before.MustChangePassword)
	}
	b := f.browser(t, uaFirefox)
	resp := f.login(t, b)
	if resp.StatusCode != http.StatusForbidden || resp.Request.URL.Path != "/login/password" {
		t.Fatalf("login after not-me without a second factor: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	if _, body := f.get(t, b, "/login/password?authRequestID="+url.QueryEscape(id)); !strings.Contains(body, "会員窓口") {
		t.Errorf("the page does not send the member to the membership desk:\n%s", body)
	}
	resp, _ = f.post(t, b, "/login/password", url.Values{"authRequestID": {id}, "new_password": {"Other-Pass-55"}, "confirm_password": {"Other-Pass-55"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("posting a new password anyway: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if after, _ := f.st.MemberByID(t.Context(), f.member.ID); after.PasswordHash != before.PasswordHash {
		t.Error("a password was stored without the second factor")
	}
}

// TestStaleSessionIsNoLogin: a session whose security stamp is not the
// member's (its record outlived a credential change) logs nobody in.
func TestStaleSessionIsNoLogin(t *testing.T) {
	f := newRiskFixture(t, false)
	a := f.browser(t, uaChrome)
	f.login(t, a)
	if resp, _ := f.get(t, a, "/account"); resp.Request.URL.Path != "/account" {
		t.Fatalf("logged in, /account leads to %s", resp.Request.URL)
	}
	f.update(t, func(m storage.Member) storage.Member { m.SecurityStamp = "changed"; return m })
	if resp, _ := f.get(t, a, "/account"); resp.Request.URL.Path != "/login" {
		t.Errorf("a session from before the change reaches %s", resp.Request.URL)
	}
}

// TestLoginVoidWhenCredentialsChange: a login in progress whose member's
// credentials change before it completes is void: its held password is
// never stored and it must start again.
func TestLoginVoidWhenCredentialsChange(t *testing.T) {
	f := newRiskFixture(t, false)
	f.update(t, func(m storage.Member) storage.Member { m.MustChangePassword = true; return m })
	a := f.browser(t, uaChrome)
	resp := f.login(t, a)
	if resp.Request.URL.Path != "/login/password" {
		t.Fatalf("forced change: login at %s", resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	before := f.update(t, func(m storage.Member) storage.Member { m.SecurityStamp = "reset-elsewhere"; return m })
	resp, body := f.post(t, a, "/login/password", url.Values{"authRequestID": {id}, "new_password": {"Other-Pass-55"}, "confirm_password": {"Other-Pass-55"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "最初からやり直してください") {
		t.Errorf("after the change elsewhere: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if resp, _ := f.get(t, a, "/login/password?authRequestID="+url.QueryEscape(id)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the void login goes on: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if after, _ := f.st.MemberByID(t.Context(), f.member.ID); after.PasswordHash != before.PasswordHash {
		t.Error("the void login stored its password")
	}
}

// TestChangePasswordKeepsThisBrowserAsConfigured: a password change ends
// the other browser's session either way; this browser stays logged in,
// under a new session id, only when the option says so.
func TestChangePasswordKeepsThisBrowserAsConfigured(t *testing.T) {
	for _, keep := range []bool{true, false} {
		f := newRiskFixture(t, false)
		f.ui.opts.KeepSessionOnCredentialChange = keep
		a, b := f.browser(t, uaChrome), f.browser(t, uaFirefox)
		f.login(t, a)
		f.login(t, b)
		old, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID})
		resp, _ := f.post(t, a, "/account/password", url.Values{"password": {testPass}, "new_password": {"Other-Pass-55"}, "confirm_password": {"Other-Pass-55"}})
		want := "/login"
		if keep {
			want = "/account"
		}
		if resp.Request.URL.Path != want {
			t.Errorf("keep %v: after the change at %s, want %s", keep, resp.Request.URL, want)
		}
		if resp, _ := f.get(t, b, "/account"); resp.Request.URL.Path != "/login" {
			t.Errorf("keep %v: the other browser reaches %s", keep, resp.Request.URL)
		}
		left, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID})
		if keep && (len(left) != 1 || left[0].ID == old[0].ID || left[0].ID == old[1].ID) {
			t.Errorf("keep: sessions left %+v, want one under a new id", left)
		}
		if !keep && len(left) != 0 {
			t.Errorf("not kept: %d sessions left", len(left))
		}
	}
}
