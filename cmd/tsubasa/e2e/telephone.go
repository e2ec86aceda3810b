package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"
)

// TelResult is an answer of the call centre's PIN API.
type TelResult struct {
	Status      int
	Result      string `json:"result"`
	Description string `json:"error_description"`
}

// TelephoneToken is the call centre's own token: client_credentials of
// the base config's backend client, scope telephone.
func TelephoneToken(t *testing.T, s *Server) string {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: "backend", ClientSecret: "backend-secret-0123456789", TokenURL: p.Endpoint().TokenURL, Scopes: []string{"telephone"}}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// VerifyPIN asks the PIN API whether pin is number's PIN, with token.
func VerifyPIN(t *testing.T, s *Server, token, number, pin string) TelResult {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"member_number": number, "pin": pin})
	return PostTelephone(t, s, token, string(b))
}

// PostTelephone posts body to the PIN API with token (none when empty).
func PostTelephone(t *testing.T, s *Server, token, body string) TelResult {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/api/telephone/verify", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := TelResult{Status: resp.StatusCode}
	_ = json.NewDecoder(resp.Body).Decode(&r)
	return r
}
