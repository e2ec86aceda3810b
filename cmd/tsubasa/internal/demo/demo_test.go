package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCallbackRefusesAFlowOfAnotherBrowser: a callback whose state is not
// the one sealed in this browser's cookie is refused before any code is
// exchanged, and the pages carry a CSP without inline script.
func TestCallbackRefusesAFlowOfAnotherBrowser(t *testing.T) {
	// The issuer answers discovery only: nothing else may be reached.
	var other []string
	var issuer *httptest.Server
	issuer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			other = append(other, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + issuer.URL + `","authorization_endpoint":"` + issuer.URL + `/authorize",` +
			`"token_endpoint":"` + issuer.URL + `/oauth/token","jwks_uri":"` + issuer.URL + `/keys"}`))
	}))
	defer issuer.Close()
	h := New(issuer.URL, "demo", "secret")

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/demo/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); rec.Code != http.StatusOK || !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("home: %d, CSP %q", rec.Code, csp)
	}
	if strings.Contains(rec.Body.String(), "<script") {
		t.Error("the demo page has a script")
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/demo/callback?state=forged&code=stolen", nil))
	if !strings.Contains(rec.Body.String(), "state mismatch") {
		t.Errorf("callback without this browser's flow: %d\n%s", rec.Code, rec.Body.String())
	}
	if len(other) > 0 {
		t.Errorf("the demo reached the issuer at %v for a forged callback", other)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/demo/login", nil))
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusFound || !strings.HasPrefix(loc, issuer.URL+"/authorize?") ||
		!strings.Contains(loc, "code_challenge_method=S256") || !strings.Contains(loc, "nonce=") {
		t.Errorf("login: %d to %q", rec.Code, loc)
	}
}
