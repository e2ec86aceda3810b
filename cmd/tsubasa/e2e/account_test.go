package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAccountPages: /account sends a logged-out browser through the login
// and back; the member changes the password (current one required, policy
// enforced) and logs out.
func TestAccountPages(t *testing.T) {
	s := StartWithMember(t, Options{})
	b := NewBrowser(t, s)
	p := b.Get(t, s.Issuer+"/account")
	if !strings.HasPrefix(p.URL.Path, "/login") {
		t.Fatalf("logged-out /account must lead to the login page, got %s", p.URL)
	}
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if res.URL.Path != "/account" || !strings.Contains(res.Body, MemberNumber) {
		t.Fatalf("after login the account page must show the member, got %d at %s", res.Status, res.URL)
	}
	page := b.Get(t, s.Issuer+"/account/password")
	wrong := b.Post(t, page.URL, "/account/password", url.Values{"password": {"Not-the-one-1"}, "new_password": {"Aozora-2027"}, "confirm_password": {"Aozora-2027"}})
	if wrong.Status != http.StatusUnauthorized {
		t.Errorf("wrong current password: status %d", wrong.Status)
	}
	same := b.Post(t, page.URL, "/account/password", url.Values{"password": {MemberPass}, "new_password": {MemberPass}, "confirm_password": {MemberPass}})
	if same.Status != http.StatusUnprocessableEntity {
		t.Errorf("unchanged password: status %d", same.Status)
	}
	ok := b.Post(t, page.URL, "/account/password", url.Values{"password": {MemberPass}, "new_password": {"Aozora-2027"}, "confirm_password": {"Aozora-2027"}})
	if ok.URL.Path != "/account" || !strings.Contains(ok.Body, `role="status"`) {
		t.Fatalf("password change: status %d at %s", ok.Status, ok.URL)
	}
	// A cross-site post is refused.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/account/logout", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if cross := b.do(t, req); cross.Status != http.StatusForbidden {
		t.Errorf("cross-site logout post: status %d, want 403", cross.Status)
	}
	out := b.Post(t, ok.URL, "/account/logout", nil)
	if out.URL.Path != "/logged-out" {
		t.Errorf("logout ended at %s", out.URL)
	}
	if again := b.Get(t, s.Issuer+"/account"); !strings.HasPrefix(again.URL.Path, "/login") {
		t.Errorf("after logout /account must ask to log in, got %s", again.URL)
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	f := NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f, Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, "Aozora-2027")); err != nil {
		t.Errorf("login with the changed password: %v", err)
	}
}
