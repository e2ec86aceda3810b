package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func jwksOf(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPartnerClientRules: each partner setting a client may get wrong is
// reported at its own key path, and the valid combinations pass.
func TestPartnerClientRules(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	public := jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "k1", Use: "sig"})
	partner := ClientConfig{ID: "partner", RedirectURIs: []string{"https://partner.example/cb"},
		TokenEndpointAuthMethod: AuthMethodPrivateKey, JWKS: public}
	for name, tt := range map[string]struct {
		change func(*ClientConfig)
		path   string // "" = valid
	}{
		"private_key_jwt with inline keys": {func(*ClientConfig) {}, ""},
		"private_key_jwt with a jwks_uri":  {func(c *ClientConfig) { c.JWKS, c.JWKSURI = "", "https://partner.example/jwks.json" }, ""},
		"loopback jwks_uri over http":      {func(c *ClientConfig) { c.JWKS, c.JWKSURI = "", "http://127.0.0.1:8081/jwks" }, ""},
		"a secret client pushing its requests": {func(c *ClientConfig) {
			c.TokenEndpointAuthMethod, c.Secret, c.RequirePushedAuthorizationRequests = AuthMethodBasic, "s", true
		}, ""},
		"a public client with none":            {func(c *ClientConfig) { c.TokenEndpointAuthMethod, c.Public, c.JWKS = AuthMethodNone, true, "" }, ""},
		"a public client signing its requests": {func(c *ClientConfig) { c.TokenEndpointAuthMethod, c.Public = "", true }, ""},
		"private_key_jwt without keys":         {func(c *ClientConfig) { c.JWKS = "" }, "clients[0].token_endpoint_auth_method"},
		"private_key_jwt with a secret":        {func(c *ClientConfig) { c.Secret = "s" }, "clients[0].secret"},
		"private_key_jwt on a public client":   {func(c *ClientConfig) { c.Public = true }, "clients[0].token_endpoint_auth_method"},
		"none on a confidential client":        {func(c *ClientConfig) { c.TokenEndpointAuthMethod, c.Secret = AuthMethodNone, "s" }, "clients[0].token_endpoint_auth_method"},
		"a secret method on a public client":   {func(c *ClientConfig) { c.TokenEndpointAuthMethod, c.Public = AuthMethodPost, true }, "clients[0].token_endpoint_auth_method"},
		"an unknown method":                    {func(c *ClientConfig) { c.TokenEndpointAuthMethod = "tls_client_auth" }, "clients[0].token_endpoint_auth_method"},
		"both jwks and jwks_uri":               {func(c *ClientConfig) { c.JWKSURI = "https://partner.example/jwks.json" }, "clients[0].jwks_uri"},
		"a jwks_uri over http elsewhere":       {func(c *ClientConfig) { c.JWKS, c.JWKSURI = "", "http://partner.example/jwks.json" }, "clients[0].jwks_uri"},
		"jwks that is not JSON":                {func(c *ClientConfig) { c.JWKS = "keys: []" }, "clients[0].jwks"},
		"jwks without a signing key":           {func(c *ClientConfig) { c.JWKS = `{"keys":[]}` }, "clients[0].jwks"},
		"jwks with a private key":              {func(c *ClientConfig) { c.JWKS = jwksOf(t, jose.JSONWebKey{Key: ec, KeyID: "k1"}) }, "clients[0].jwks"},
		"jwks with a symmetric key": {func(c *ClientConfig) {
			c.JWKS = jwksOf(t, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "k1"})
		}, "clients[0].jwks"},
		"jwks with a short RSA key":          {func(c *ClientConfig) { c.JWKS = jwksOf(t, jose.JSONWebKey{Key: &small.PublicKey, KeyID: "k1"}) }, "clients[0].jwks"},
		"a fapi2 partner (ES256 by default)": {func(c *ClientConfig) { c.Profile = ProfileFAPI2 }, ""},
		"a DPoP-bound client signing with PS256": {func(c *ClientConfig) {
			c.DPoPBoundAccessTokens, c.IDTokenSignedResponseAlg = true, AlgPS256
		}, ""},
		"a fapi2 partner with RS256 ID tokens": {func(c *ClientConfig) {
			c.Profile, c.IDTokenSignedResponseAlg = ProfileFAPI2, AlgRS256
		}, "clients[0].id_token_signed_response_alg"},
		"a fapi2 partner with a secret": {func(c *ClientConfig) {
			c.Profile, c.TokenEndpointAuthMethod, c.Secret = ProfileFAPI2, AuthMethodBasic, "s"
		}, "clients[0].token_endpoint_auth_method"},
		"a public fapi2 client": {func(c *ClientConfig) {
			c.Profile, c.Public, c.TokenEndpointAuthMethod, c.JWKS = ProfileFAPI2, true, AuthMethodNone, ""
		}, "clients[0].public"},
		"an unknown profile": {func(c *ClientConfig) { c.Profile = "fapi1" }, "clients[0].profile"},
		"jwks with an encryption key only": {func(c *ClientConfig) {
			c.JWKS = jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "k1", Use: "enc"})
		}, "clients[0].jwks"},
	} {
		t.Run(name, func(t *testing.T) {
			c := prodConfig()
			cl := partner
			tt.change(&cl)
			c.Clients = []ClientConfig{cl}
			err := c.Validate()
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a problem at %s", err, tt.path)
			}
			for _, p := range ve.Problems {
				if p.Path == tt.path && p.Message != "" {
					return
				}
			}
			t.Fatalf("problems %v, want one at %s", ve.Problems, tt.path)
		})
	}
}

func TestPartnerSectionRules(t *testing.T) {
	for name, tt := range map[string]struct {
		change func(*Config)
		path   string
	}{
		"request_uri_ttl too short":   {func(c *Config) { c.PAR.RequestURITTL = time.Second }, "par.request_uri_ttl"},
		"request_uri_ttl too long":    {func(c *Config) { c.PAR.RequestURITTL = time.Hour }, "par.request_uri_ttl"},
		"outbound timeout of zero":    {func(c *Config) { c.Outbound.Timeout = 0 }, "outbound.timeout"},
		"outbound body limit of zero": {func(c *Config) { c.Outbound.MaxResponseBytes = 0 }, "outbound.max_response_bytes"},
		"DPoP proofs of a second":     {func(c *Config) { c.DPoP.ProofMaxAge = time.Second }, "dpop.proof_max_age"},
		"DPoP proofs of an hour":      {func(c *Config) { c.DPoP.ProofMaxAge = time.Hour }, "dpop.proof_max_age"},
		"nonces of a second":          {func(c *Config) { c.DPoP.RequireNonce, c.DPoP.NonceTTL = true, time.Second }, "dpop.nonce_ttl"},
	} {
		t.Run(name, func(t *testing.T) {
			c := prodConfig()
			tt.change(&c)
			var ve *ValidationError
			if !errors.As(c.Validate(), &ve) || !strings.Contains(ve.Error(), tt.path) {
				t.Fatalf("Validate = %v, want a problem at %s", ve, tt.path)
			}
		})
	}
}
