package adminremote

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Key is a client's private key for private_key_jwt.
type Key struct {
	signer jose.Signer
}

// ReadKey reads a private key from a file: a JWK (or a JWK Set holding
// one private key), or PEM (PKCS#8, or SEC 1 EC, or PKCS#1 RSA). Its kid,
// when the JWK has one, goes in the assertions' header.
func ReadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--client-key: %w", err)
	}
	var k any
	kid := ""
	if blk, _ := pem.Decode(b); blk != nil {
		if k, err = parsePEM(blk); err != nil {
			return nil, fmt.Errorf("--client-key %s: %w", path, err)
		}
	} else {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(b, &jwk); err != nil || jwk.Key == nil {
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 1 {
				return nil, fmt.Errorf("--client-key %s: not a PEM private key, a private JWK or a JWK Set of one", path)
			}
			jwk = set.Keys[0]
		}
		if jwk.IsPublic() {
			return nil, fmt.Errorf("--client-key %s: the key is a public one; give the private key", path)
		}
		k, kid = jwk.Key, jwk.KeyID
	}
	alg, err := algorithm(k)
	if err != nil {
		return nil, fmt.Errorf("--client-key %s: %w", path, err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("--client-key %s: %w", path, err)
	}
	return &Key{signer: s}, nil
}

func parsePEM(blk *pem.Block) (any, error) {
	switch blk.Type {
	case "PRIVATE KEY":
		return x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(blk.Bytes)
	}
	return nil, fmt.Errorf("a PEM %q block is no private key", blk.Type)
}

// algorithm is the signature algorithm of a key, as the server takes
// them (ES256, PS256, EdDSA; never none nor an HMAC).
func algorithm(k any) (jose.SignatureAlgorithm, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve.Params().BitSize == 256 {
			return jose.ES256, nil
		}
		return "", errors.New("an EC key must be on P-256 (ES256)")
	case *rsa.PrivateKey:
		return jose.PS256, nil
	case ed25519.PrivateKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("a %T is not a signing key the server takes", k)
}

// token returns an access token for scope, from the cache or the token
// endpoint.
func (c *Client) token(ctx context.Context, scope string) (string, error) {
	c.mu.Lock()
	t, ok := c.tokens[scope]
	c.mu.Unlock()
	if ok && time.Now().Before(t.expires) {
		return t.value, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	if c.o.Key != nil {
		now := time.Now()
		assertion, err := jwt.Signed(c.o.Key.signer).Claims(jwt.Claims{
			Issuer: c.o.ClientID, Subject: c.o.ClientID, Audience: jwt.Audience{c.issuer}, ID: rand.Text(),
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
		}).Serialize()
		if err != nil {
			return "", fmt.Errorf("signing the client assertion: %w", err)
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	if c.o.Key == nil {
		// RFC 6749 §2.3.1: the id and secret form-encoded, then Basic.
		req.SetBasicAuth(url.QueryEscape(c.o.ClientID), url.QueryEscape(c.o.Secret))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("token endpoint %s: %w", c.tokenURL, err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("token endpoint %s: %s", c.tokenURL, resp.Status)
	}
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		return "", fmt.Errorf("the server gave the CLI no token for %s: %s %s (is client %s allowed that scope and client_credentials?)",
			scope, tr.Error, tr.Description, c.o.ClientID)
	}
	// Used until 30 s before it expires, so that none expires in flight.
	t = token{value: tr.AccessToken, expires: time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second - 30*time.Second)}
	c.mu.Lock()
	c.tokens[scope] = t
	c.mu.Unlock()
	return t.value, nil
}

// forget drops the cached token of scope.
func (c *Client) forget(scope string) {
	c.mu.Lock()
	delete(c.tokens, scope)
	c.mu.Unlock()
}
