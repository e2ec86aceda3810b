package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
)

// JWK is what the tests read of a published key.
type JWK struct{ Kid, Kty, Alg, N, E string }

// JWKS fetches the provider's published keys.
func JWKS(t *testing.T, s *Server) []JWK {
	t.Helper()
	resp, err := http.Get(s.Issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []JWK `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set.Keys
}
