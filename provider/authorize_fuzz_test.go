package provider_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"tsubasa/provider"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// The authorization and end-session endpoints take whatever a browser
// brings. Whatever the query, the provider must never panic or answer 5xx,
// and must never redirect anywhere but to its own pages or to a URI the
// client registered (exactly, then '?' or '#' and parameters): an
// unregistered redirect_uri or post_logout_redirect_uri gets an error
// answer, never a redirect (nor a request the login UI would follow).
//
//	go test -run '^$' -fuzz FuzzAuthorize ./provider
//	go test -run '^$' -fuzz FuzzEndSession ./provider

const fuzzIssuer = "http://127.0.0.1:1"

var fuzzClients = []storage.Client{
	{ID: "web", SecretHash: []byte("x"), RedirectURIs: []string{"https://rp.example/cb"},
		PostLogoutRedirectURIs: []string{"https://rp.example/bye"},
		GrantTypes:             []string{provider.GrantAuthorizationCode, provider.GrantRefreshToken},
		Scopes:                 []string{"openid", "profile", "email", "offline_access"}},
	{ID: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"},
		GrantTypes: []string{provider.GrantAuthorizationCode}, Scopes: []string{"openid"}},
	{ID: "app", Public: true, RedirectURIs: []string{"com.example.app:/oauth"},
		GrantTypes: []string{provider.GrantAuthorizationCode}, Scopes: []string{"openid"}},
}

// newFuzzHandler is the provider's handler over a real database.
func newFuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler)) // op logs every refused request
	f.Cleanup(func() { slog.SetDefault(prev) })
	st, err := bolt.Open(filepath.Join(f.TempDir(), "fuzz.db"), bolt.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	p, err := provider.New(context.Background(), provider.Options{
		Issuer:   fuzzIssuer,
		Store:    st,
		Clients:  fuzzClients,
		HMACKey:  []byte("fuzz-hmac-key-0123456789abcdef-0123"),
		RSABits:  2048,
		LoginURL: func(id string) string { return "/login?authRequestID=" + id },
		// The login UI's side, as far as redirects go: it follows the
		// request's RedirectURI (after a logout) or shows a page.
		EndSession: func(w http.ResponseWriter, r *http.Request, req provider.LogoutRequest) {
			if req.RedirectURI == "" {
				w.WriteHeader(http.StatusOK)
				return
			}
			http.Redirect(w, r, req.RedirectURI, http.StatusSeeOther)
		},
		LogoutRefused: func(w http.ResponseWriter, _ *http.Request, ref provider.LogoutRefusal) {
			w.WriteHeader(ref.Status)
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		f.Fatal(err)
	}
	return p.Handler()
}

// serveRaw sends the query as is (no re-encoding: the handler sees every
// malformed escape), as GET or as a POSTed form.
func serveRaw(h http.Handler, path, query string, post bool) *httptest.ResponseRecorder {
	var req *http.Request
	if post {
		req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(query))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(http.MethodGet, path, nil)
		req.URL.RawQuery = query
		req.RequestURI = path + "?" + query
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// registeredTarget reports whether loc is one of uris, possibly followed by
// parameters.
func registeredTarget(loc string, uris []string) bool {
	for _, u := range uris {
		if loc == u || strings.HasPrefix(loc, u+"?") || strings.HasPrefix(loc, u+"#") {
			return true
		}
	}
	return false
}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed []string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
	}
	loc := rec.Header().Get("Location")
	if loc == "" {
		return
	}
	if !registeredTarget(loc, allowed) {
		t.Fatalf("status %d redirects to %q, which no client registered", rec.Code, loc)
	}
}

func FuzzAuthorize(f *testing.F) {
	h := newFuzzHandler(f)
	const ok = "response_type=code&client_id=web&redirect_uri=https%3A%2F%2Frp.example%2Fcb&scope=openid&state=s&nonce=n" +
		"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	for _, q := range []string{
		ok,
		strings.Replace(ok, "rp.example%2Fcb", "evil.example%2Fcb", 1),
		strings.Replace(ok, "rp.example%2Fcb", "rp.example%2Fcb%2F", 1),
		strings.Replace(ok, "rp.example%2Fcb", "rp.example%40evil.example%2Fcb", 1),
		strings.Replace(ok, "https%3A%2F%2Frp", "HTTPS%3A%2F%2Frp", 1),
		strings.Replace(ok, "rp.example%2Fcb", "rp.example%2Fcb%3Fnext%3Dhttps%3A%2F%2Fevil.example", 1),
		ok + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
		ok + "&prompt=none&max_age=-1&acr_values=urn%3Atsubasa%3Aacr%3Aotp&ui_locales=xx%%zz",
		ok + "&response_mode=fragment&id_token_hint=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		ok + "&request=eyJhbGciOiJub25lIn0.e30.&request_uri=https%3A%2F%2Fevil.example%2Fr",
		"response_type=code&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&scope=openid",
		"response_type=token&client_id=app&redirect_uri=com.example.app%3A%2Foauth&scope=openid",
		"client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid",
		"%zz;&&==&client_id=web",
		"",
	} {
		f.Add(q, false)
		f.Add(q, true)
	}
	var allowed []string
	for _, c := range fuzzClients {
		allowed = append(allowed, c.RedirectURIs...)
	}
	allowed = append(allowed, "/login")
	f.Fuzz(func(t *testing.T, query string, post bool) {
		checkAnswer(t, serveRaw(h, "/authorize", query, post), allowed)
	})
}

func FuzzEndSession(f *testing.F) {
	h := newFuzzHandler(f)
	for _, q := range []string{
		"client_id=web&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=x",
		"client_id=web&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2Fbye",
		"post_logout_redirect_uri=https%3A%2F%2Fevil.example%2Fbye",
		"client_id=nobody&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2Fbye",
		"id_token_hint=eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjEiLCJzaWQiOiJ4In0.&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
		"client_id=web&post_logout_redirect_uri=%zz",
		"",
	} {
		f.Add(q, false)
		f.Add(q, true)
	}
	var allowed []string
	for _, c := range fuzzClients {
		allowed = append(allowed, c.PostLogoutRedirectURIs...)
	}
	f.Fuzz(func(t *testing.T, query string, post bool) {
		checkAnswer(t, serveRaw(h, "/end_session", query, post), allowed)
	})
}
