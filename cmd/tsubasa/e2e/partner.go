package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// The client side of partner-grade OAuth, written from the RFCs with
// go-jose: no maintained Go client does PAR, and the client assertions of
// zitadel/oidc's rp carry no jti, which OpenID Connect Core 1.0 §9
// requires (Tsubasa refuses them). Client assertions follow RFC 7523 §3
// (iss = sub = client_id, aud the issuer, a short exp, a fresh jti),
// request objects RFC 9101 §4, pushed requests RFC 9126 §2.

// AssertionType is client_assertion_type for a JWT (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// PartnerKey is a partner's P-256 signing key.
type PartnerKey struct {
	Key  *ecdsa.PrivateKey
	Kid  string
	JWKS string // the public key as the JWK Set the client registers
}

// NewPartnerKey makes a key named kid.
func NewPartnerKey(t *testing.T, kid string) PartnerKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return PartnerKey{Key: k, Kid: kid, JWKS: string(b)}
}

// Sign signs claims as a compact JWS (ES256) with the key's kid and the
// header typ when it is not empty.
func (k PartnerKey) Sign(t *testing.T, claims any, typ string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", k.Kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// AssertionClaims are a sound client assertion's claims for clientID at
// the server of issuer, valid for a minute from now.
func AssertionClaims(clientID, issuer string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": clientID, "sub": clientID, "aud": issuer, "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

// Assertion is a fresh client assertion of clientID for s.
func (k PartnerKey) Assertion(t *testing.T, s *Server, clientID string) string {
	t.Helper()
	return k.Sign(t, AssertionClaims(clientID, s.Issuer), "")
}

// AssertionForm is form with client authentication by assertion added.
func AssertionForm(form url.Values, assertion string) url.Values {
	out := url.Values{"client_assertion_type": {AssertionType}, "client_assertion": {assertion}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// PostForm posts form to the issuer's path, no client authentication
// header, and reads the answer.
func PostForm(t *testing.T, s *Server, path string, form url.Values) Wire {
	t.Helper()
	return WireDo(t, NewFormRequest(t.Context(), s.Issuer+path, form.Encode()))
}

// Push pushes an authorization request of clientID (RFC 9126) and returns
// the request_uri; the answer must be 201.
func (k PartnerKey) Push(t *testing.T, s *Server, clientID string, params url.Values) string {
	t.Helper()
	w := PostForm(t, s, "/oauth/par", AssertionForm(params, k.Assertion(t, s, clientID)))
	body := w.JSON(t)
	uri, _ := body["request_uri"].(string)
	if w.Status != http.StatusCreated || uri == "" {
		t.Fatalf("push: %d %s", w.Status, w.Body)
	}
	return uri
}

// AuthParams are the parameters of f's authorization request by clientID
// to the RP's redirect URI, PKCE S256 included.
func AuthParams(s *Server, clientID string, f Flow, scope string) url.Values {
	sum := oauth2.S256ChallengeFromVerifier(f.Verifier)
	return url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {s.Issuer + "/rp/callback"},
		"scope": {scope}, "state": {f.State}, "nonce": {f.Nonce}, "code_challenge": {sum}, "code_challenge_method": {"S256"}}
}

// JWKSServer serves a key set at a loopback URL, counting the fetches.
type JWKSServer struct {
	URL     string
	Fetches atomic.Int32
}

// ServeJWKS serves jwks until the test ends.
func ServeJWKS(t *testing.T, jwks string) *JWKSServer {
	t.Helper()
	js := &JWKSServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		js.Fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(jwks))
	}))
	t.Cleanup(srv.Close)
	js.URL = srv.URL + "/jwks.json"
	return js
}
