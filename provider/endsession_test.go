package provider

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// TestWithState: state is appended to the registered URI, whose own query
// and fragment stay byte for byte (RP-Initiated Logout 1.0 §3).
func TestWithState(t *testing.T) {
	for _, tt := range []struct{ uri, state, want string }{
		{"https://rp.example/bye", "", "https://rp.example/bye"},
		{"https://rp.example/bye", "a b&c", "https://rp.example/bye?state=a+b%26c"},
		{"https://rp.example/bye?z=1&a=%41", "s", "https://rp.example/bye?z=1&a=%41&state=s"},
		{"https://rp.example/bye?", "s", "https://rp.example/bye?state=s"},
		{"https://rp.example/bye?a=1&", "s", "https://rp.example/bye?a=1&state=s"},
		{"com.example.app:/bye#top", "s", "com.example.app:/bye?state=s#top"},
	} {
		if got := withState(tt.uri, tt.state); got != tt.want {
			t.Errorf("withState(%q, %q) = %q, want %q", tt.uri, tt.state, got, tt.want)
		}
	}
}

// TestValidateEndSessionWithoutHint: the rules for client_id and
// post_logout_redirect_uri, each refusal with its reason.
func TestValidateEndSessionWithoutHint(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := New(t.Context(), Options{
		Issuer: "http://127.0.0.1:1", Store: st, HMACKey: []byte("0123456789abcdef0123456789abcdef"),
		Clients: []storage.Client{{ID: "web", SecretHash: []byte("x"), RedirectURIs: []string{"https://rp.example/cb"},
			PostLogoutRedirectURIs: []string{"https://rp.example/bye", "https://rp.example/bye?from=idp"}}},
		LoginURL:      func(id string) string { return "/login?authRequestID=" + id },
		EndSession:    func(http.ResponseWriter, *http.Request, LogoutRequest) {},
		LogoutRefused: func(http.ResponseWriter, *http.Request, LogoutRefusal) {},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		ps     endSessionParams
		want   LogoutRequest
		reason LogoutReason
	}{
		{"nothing", endSessionParams{state: "s"}, LogoutRequest{}, 0},
		{"client alone", endSessionParams{clientID: "web"}, LogoutRequest{ClientID: "web"}, 0},
		{"registered", endSessionParams{clientID: "web", redirectURI: "https://rp.example/bye", state: "s"},
			LogoutRequest{ClientID: "web", RedirectURI: "https://rp.example/bye?state=s"}, 0},
		{"registered with its query", endSessionParams{clientID: "web", redirectURI: "https://rp.example/bye?from=idp", state: "s"},
			LogoutRequest{ClientID: "web", RedirectURI: "https://rp.example/bye?from=idp&state=s"}, 0},
		{"query added", endSessionParams{clientID: "web", redirectURI: "https://rp.example/bye?x=1"}, LogoutRequest{}, LogoutBadRedirect},
		{"no client", endSessionParams{redirectURI: "https://rp.example/bye"}, LogoutRequest{}, LogoutRedirectWithoutClient},
		{"unknown client", endSessionParams{clientID: "nobody"}, LogoutRequest{}, LogoutUnknownClient},
		{"not a JWT", endSessionParams{hint: "x", clientID: "web"}, LogoutRequest{}, LogoutBadHint},
	} {
		got, reason := p.validateEndSession(t.Context(), tt.ps)
		if reason != tt.reason || got.ClientID != tt.want.ClientID || got.RedirectURI != tt.want.RedirectURI || got.SessionID != "" {
			t.Errorf("%s: %+v, %v; want %+v, %v", tt.name, got, reason, tt.want, tt.reason)
		}
	}
}

// TestParseEndSessionRefusesRepeats: a parameter given twice leaves it
// unclear which the relying party meant; the request is refused.
func TestParseEndSessionRefusesRepeats(t *testing.T) {
	for q, want := range map[string]int{
		"client_id=web&state=a":         0,
		"client_id=web&client_id=other": http.StatusBadRequest,
		"state=a&state=b":               http.StatusBadRequest,
		"unknown=1&unknown=2":           0,
		"state=%zz":                     http.StatusBadRequest,
	} {
		r := httptest.NewRequest(http.MethodGet, "/end_session?"+q, nil)
		if _, status := parseEndSession(r); status != want {
			t.Errorf("%s: status %d, want %d", q, status, want)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/end_session?state=a", strings.NewReader("state=b"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, status := parseEndSession(r); status != http.StatusBadRequest {
		t.Errorf("state in the query and the body: status %d, want 400", status)
	}
}
