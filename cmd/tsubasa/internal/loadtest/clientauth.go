package loadtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// How the load's client authenticates at the token and introspection
// endpoints (Options.ClientAuth): with its secret in HTTP Basic, or with a
// client assertion (private_key_jwt, RFC 7523 §2.2) signed with its key,
// a new one (new jti) for every request, as a partner's server does,
// signed inside the timed request or before the run (--presign,
// presign.go).
const (
	ClientAuthBasic         = "client_secret_basic"
	ClientAuthPrivateKeyJWT = "private_key_jwt"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// clientAuth authenticates the load's client.
type clientAuth struct {
	basic  string // the Authorization header; "" with assertions
	signer jose.Signer
	// assertions are signed before the run (presign.go).
	assertions *pool
	clientID   string
	audience   string
}

// newClientAuth prepares o's client authentication for the server of
// issuer (the assertions' audience).
func newClientAuth(o Options, issuer string) (*clientAuth, error) {
	if o.ClientAuth != ClientAuthPrivateKeyJWT {
		return &clientAuth{basic: "Basic " + basic(o.ClientID, o.ClientSecret)}, nil
	}
	key, err := ReadClientKey(o.ClientKey)
	if err != nil {
		return nil, err
	}
	alg := jose.ES256
	if _, ok := key.Key.(*rsa.PrivateKey); ok {
		alg = jose.PS256
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key.Key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.KeyID))
	if err != nil {
		return nil, fmt.Errorf("loadtest: --client-key %s: %w", o.ClientKey, err)
	}
	return &clientAuth{signer: signer, clientID: o.ClientID, audience: issuer}, nil
}

// apply returns the Authorization header and the form to send for form.
func (a *clientAuth) apply(form string) (auth, body string, err error) {
	if a.signer == nil {
		return a.basic, form, nil
	}
	assertion, err := a.assertions.take()
	if err != nil {
		return "", "", err
	}
	if form != "" {
		form += "&"
	}
	return "", form + "client_assertion_type=" + url.QueryEscape(assertionType) + "&client_assertion=" + assertion, nil
}

// assertion signs a fresh client assertion: a new jti, valid for 5
// minutes (the most the server takes), so that one signed before a run
// still works at its end.
func (a *clientAuth) assertion() (string, error) {
	now := time.Now()
	return jwt.Signed(a.signer).Claims(jwt.Claims{
		Issuer: a.clientID, Subject: a.clientID, Audience: jwt.Audience{a.audience}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)),
	}).Serialize()
}

// NewClientKey returns a new P-256 signing key for a load-test client: the
// private key as a JWK (JSON, for --client-key) and the public key as the
// JWK Set the client registers.
func NewClientKey(kid string) (private []byte, jwks string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	private, err = json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"})
	if err != nil {
		return nil, "", err
	}
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid,
		Algorithm: string(jose.ES256), Use: "sig"}}})
	return private, string(pub), err
}

// ReadClientKey reads a private JWK written by NewClientKey (or any EC or
// RSA private JWK with a kid).
func ReadClientKey(path string) (jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	b, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("loadtest: --client-key: %w", err)
	}
	if err := json.Unmarshal(b, &k); err != nil || k.IsPublic() || k.KeyID == "" {
		return k, usage("loadtest: --client-key %s is not a private JWK with a kid", path)
	}
	switch k.Key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		return k, nil
	}
	return k, usage("loadtest: --client-key %s: an EC or RSA key, please", path)
}
