package e2e

import (
	"io"
	"net/http"
	"testing"
)

// RawStatus sends req with the default client (no cookies, redirects
// followed) and returns the final status; the body is drained.
func RawStatus(req *http.Request) (int, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// RequireServing checks that the server still serves after a fault or an
// attack: liveness, readiness (storage) and a real login of the test
// member through the first-party client.
func RequireServing(t *testing.T, s *Server) {
	t.Helper()
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.Issuer + p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, resp.StatusCode)
		}
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	f := NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f, Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass)); err != nil {
		t.Fatalf("login after the attack: %v", err)
	}
}
