package e2e

import (
	"net/http"
	"net/url"
	"testing"
)

// TestAuthorizeByPOST: OpenID Connect Core 1.0 §3.1.2.1 requires the
// authorization endpoint to take requests by POST as well as GET.
func TestAuthorizeByPOST(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	f := NewFlow()
	get, err := url.Parse(rp.AuthURL(f))
	if err != nil {
		t.Fatal(err)
	}
	req := NewFormRequest(t.Context(), rp.OAuth.Endpoint.AuthURL, get.RawQuery)
	// A relying party's auto-submitted form comes from the relying party's origin.
	req.Header.Set("Origin", "https://rp.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	p := b.do(t, req)
	if p.Status != http.StatusOK || p.URL.Path != "/login" {
		t.Fatalf("POST authorization request: %d at %s", p.Status, p.URL)
	}
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if _, _, err := rp.Exchange(t.Context(), f, Callback(t, res)); err != nil {
		t.Fatalf("code from a POST authorization request: %v", err)
	}
}
