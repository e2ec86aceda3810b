package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// The client side of DPoP (RFC 9449), written from the RFC with go-jose:
// no maintained Go client library does DPoP (golang.org/x/oauth2 sends
// Bearer tokens only). A proof is a JWT with typ dpop+jwt and the public
// key in its jwk header, signed with ES256, whose claims are a fresh jti,
// htm and htu (the request's method and URL), iat, ath (the access
// token's SHA-256, at a resource), and the server's nonce once it asked
// for one (§8: a use_dpop_nonce answer carries it in DPoP-Nonce, and the
// client tries again with it).

// DPoPKey is a client's DPoP key pair, with the last nonce its server
// gave it.
type DPoPKey struct {
	Key *ecdsa.PrivateKey
	JKT string // the RFC 7638 thumbprint tokens bound to it carry (cnf.jkt)

	mu    sync.Mutex
	nonce string
}

// NewDPoPKey makes a P-256 key.
func NewDPoPKey(t *testing.T) *DPoPKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &DPoPKey{Key: k, JKT: base64.RawURLEncoding.EncodeToString(sum)}
}

// ProofClaims are a sound proof's claims for method and target, with ath
// for accessToken when it is not empty.
func (k *DPoPKey) ProofClaims(method, target, accessToken string) map[string]any {
	c := map[string]any{"jti": rand.Text(), "htm": method, "htu": target, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	k.mu.Lock()
	if k.nonce != "" {
		c["nonce"] = k.nonce
	}
	k.mu.Unlock()
	return c
}

// Sign signs claims as a DPoP proof with the key.
func (k *DPoPKey) Sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
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

// Proof is a fresh proof for method and target (and accessToken).
func (k *DPoPKey) Proof(t *testing.T, method, target, accessToken string) string {
	t.Helper()
	return k.Sign(t, k.ProofClaims(method, target, accessToken))
}

// remember keeps the nonce an answer gave, and reports whether the answer
// asks for it to be used (use_dpop_nonce).
func (k *DPoPKey) remember(w Wire) bool {
	n := w.Header.Get("DPoP-Nonce")
	if n != "" {
		k.mu.Lock()
		k.nonce = n
		k.mu.Unlock()
	}
	return n != "" && (w.Status == http.StatusBadRequest || w.Status == http.StatusUnauthorized) &&
		strings.Contains(string(w.Body)+w.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
}

// Do sends the request build makes, with a fresh proof for accessToken
// (sent with the DPoP scheme when not empty), once more with the server's
// nonce when it asks for one.
func (k *DPoPKey) Do(t *testing.T, build func() *http.Request, accessToken string) Wire {
	t.Helper()
	var w Wire
	for range 2 {
		req := build()
		target := *req.URL
		target.RawQuery, target.Fragment = "", ""
		req.Header.Set("DPoP", k.Proof(t, req.Method, target.String(), accessToken))
		if accessToken != "" {
			req.Header.Set("Authorization", "DPoP "+accessToken)
		}
		if w = WireDo(t, req); !k.remember(w) {
			return w
		}
	}
	return w
}

// PostFormDPoP posts form to the issuer's path (the token or pushed
// request endpoint) with a proof.
func (k *DPoPKey) PostFormDPoP(t *testing.T, s *Server, path string, form url.Values) Wire {
	t.Helper()
	return k.Do(t, func() *http.Request { return NewFormRequest(t.Context(), s.Issuer+path, form.Encode()) }, "")
}

// Get sends a GET to the issuer's path with a DPoP-bound access token.
func (k *DPoPKey) Get(t *testing.T, s *Server, path, accessToken string) Wire {
	t.Helper()
	return k.Do(t, func() *http.Request {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}, accessToken)
}

// Transport adds a fresh proof to every request of an HTTP client, so that
// a client library (x/oauth2's code exchange) sends DPoP token requests.
type Transport struct {
	T   *testing.T
	Key *DPoPKey
}

func (tr Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	target := *req.URL
	target.RawQuery = ""
	req.Header.Set("DPoP", tr.Key.Proof(tr.T, req.Method, target.String(), ""))
	return http.DefaultTransport.RoundTrip(req)
}

// DPoPContext is a context that makes x/oauth2 send its requests through
// an HTTP client that signs a proof with key for each.
func DPoPContext(t *testing.T, key *DPoPKey) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: Transport{T: t, Key: key}})
}
