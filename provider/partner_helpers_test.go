package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// partnerKey is a client's signing key for tests: the private half signs,
// jwks is the public half as the client registers it.
type partnerKey struct {
	priv *ecdsa.PrivateKey
	kid  string
	jwks string
}

func newPartnerKey(t testing.TB, kid string) partnerKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return partnerKey{priv: priv, kid: kid, jwks: string(b)}
}

// sign signs claims as a JWT with the key, adding headers.
func (k partnerKey) sign(t testing.TB, claims any, headers map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", k.kid)
	for h, v := range headers {
		opts = opts.WithHeader(h, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// assertion is a client assertion of clientID for issuer aud, valid from
// now for life.
func (k partnerKey) assertion(t testing.TB, clientID, aud string, now time.Time, life time.Duration) string {
	t.Helper()
	return k.sign(t, map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud, "jti": newID(16),
		"iat": now.Unix(), "exp": now.Add(life).Unix(),
	}, nil)
}
