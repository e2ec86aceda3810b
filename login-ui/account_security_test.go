package loginui

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/provider/audit"
	"tsubasa/provider/risk"
	"tsubasa/storage"
)

func (f *riskFixture) do(t *testing.T, c *http.Client, method, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *riskFixture) eventTypes(t *testing.T) map[string]storage.Event {
	t.Helper()
	evs, err := f.st.ListEvents(t.Context(), f.member.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]storage.Event{}
	for i := len(evs) - 1; i >= 0; i-- { // oldest first: the newest of a type wins
		out[evs[i].Type] = evs[i]
	}
	return out
}

// TestSignOutDevice: one browser signs out the other; its sessions end,
// its tokens are revoked and the device is forgotten; this browser and its
// tokens stay. A device id that is not the member's is refused.
func TestSignOutDevice(t *testing.T) {
	f := newRiskFixture(t, false)
	a, b := f.browser(t, uaChrome), f.browser(t, uaFirefox)
	f.login(t, a)
	f.login(t, b)
	sessions, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID})
	if len(sessions) != 2 {
		t.Fatalf("%d sessions, want 2", len(sessions))
	}
	var tokens []storage.Token
	for i, s := range sessions {
		tokens = append(tokens, storage.Token{ID: "rt" + s.ID[:8], Kind: storage.RefreshToken, ClientID: "web",
			MemberID: f.member.ID, SessionID: s.ID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, FamilyID: string(rune('a' + i))})
	}
	if err := f.st.CreateTokens(t.Context(), tokens...); err != nil {
		t.Fatal(err)
	}
	bDevice := f.ui.risk.Engine.DeviceID(f.deviceCookie(b).Value)

	for _, id := range []string{risk.NewDeviceCookie(), "%2e%2e"} {
		if resp, _ := f.do(t, a, http.MethodPost, "/account/devices/"+id+"/signout"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown device %q: status %d, want 404", id, resp.StatusCode)
		}
	}
	resp, body := f.do(t, a, http.MethodGet, "/account/devices")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "/account/devices/"+bDevice+"/signout") || !strings.Contains(body, "Firefox 127.0") {
		t.Fatalf("devices page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.do(t, a, http.MethodPost, "/account/devices/"+bDevice+"/signout")
	if resp.Request.URL.Path != "/account/devices" || strings.Contains(body, "Firefox") {
		t.Fatalf("after sign-out: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	left, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID})
	if len(left) != 1 || left[0].DeviceID == bDevice {
		t.Errorf("sessions left: %+v", left)
	}
	toks, _ := f.st.ListTokens(t.Context(), storage.TokenFilter{MemberID: f.member.ID})
	if len(toks) != 1 || toks[0].SessionID != left[0].ID {
		t.Errorf("tokens left: %+v", toks)
	}
	if _, err := f.st.DeviceByID(t.Context(), f.member.ID, bDevice); err == nil {
		t.Error("the signed-out device is still known")
	}
	if resp, _ := f.do(t, b, http.MethodGet, "/account"); resp.Request.URL.Path != "/login" {
		t.Errorf("signed-out browser reaches %s", resp.Request.URL)
	}
	ev := f.eventTypes(t)[audit.EventSessionsRevoked]
	if ev.Detail["scope"] != "device" || ev.Detail["sessions"] != "1" || ev.Detail["tokens"] != "1" || ev.DeviceID != bDevice {
		t.Errorf("sessions.revoked event %+v", ev)
	}
}

// TestNotMe: GET only shows the confirmation; POST forces a new password,
// ends every session, forgets every device and records both events; the
// browser is sent to log in again.
func TestNotMe(t *testing.T) {
	f := newRiskFixture(t, false)
	a, b := f.browser(t, uaChrome), f.browser(t, uaFirefox)
	f.login(t, a)
	f.login(t, b)
	resp, body := f.do(t, a, http.MethodGet, "/account/not-me")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/account/not-me"`) {
		t.Fatalf("not-me page: %d", resp.StatusCode)
	}
	if m, _ := f.st.MemberByID(t.Context(), f.member.ID); m.MustChangePassword {
		t.Fatal("GET changed the account")
	}
	resp, _ = f.do(t, a, http.MethodPost, "/account/not-me")
	if resp.Request.URL.Path != "/login" {
		t.Errorf("after not-me the browser is at %s, want the login page", resp.Request.URL)
	}
	if m, _ := f.st.MemberByID(t.Context(), f.member.ID); !m.MustChangePassword {
		t.Error("not-me must force a new password")
	}
	if s, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID}); len(s) != 0 {
		t.Errorf("%d sessions left", len(s))
	}
	if d, _ := f.st.ListDevices(t.Context(), f.member.ID); len(d) != 0 {
		t.Errorf("%d devices left", len(d))
	}
	evs := f.eventTypes(t)
	if _, ok := evs[audit.EventNotMeReported]; !ok {
		t.Error("no not_me.reported event")
	}
	if ev := evs[audit.EventSessionsRevoked]; ev.Detail["scope"] != "all" || ev.Detail["sessions"] != "2" {
		t.Errorf("sessions.revoked event %+v", ev)
	}
	// A logged-out browser is asked to log in before the confirmation.
	c := f.browser(t, uaChrome)
	if resp, _ := f.do(t, c, http.MethodGet, "/account/not-me"); resp.Request.URL.Path != "/login" {
		t.Errorf("logged out, /account/not-me leads to %s", resp.Request.URL)
	}
	// A cross-site POST is refused.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+"/account/signout-all", strings.NewReader(url.Values{}.Encode()))
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-out-all: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestHistoryPage lists successful and failed logins, newest first.
func TestHistoryPage(t *testing.T) {
	f := newRiskFixture(t, false)
	a := f.browser(t, uaChrome)
	f.login(t, a)
	// A failed attempt from another browser.
	b := f.browser(t, uaFirefox)
	resp, _ := f.do(t, b, http.MethodGet, "/account")
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err := b.PostForm(f.srv.URL+"/login", url.Values{"authRequestID": {id}, "member_number": {testNumber}, "password": {"Wrong-pass-1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, body := f.do(t, a, http.MethodGet, "/account/history?lang=en")
	failed, ok := strings.Index(body, `class="login failed"`), strings.Index(body, `class="login ok"`)
	if failed < 0 || ok < 0 || failed > ok {
		t.Fatalf("history must list the failure, then the success:\n%s", body)
	}
	for _, want := range []string{"Firefox 127.0", "Chrome 126.0.0.0", "Windows 10.0 (computer)", "Password", "Failed", "Successful", "JST"} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
}
