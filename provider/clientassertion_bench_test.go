package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// What private_key_jwt costs per request: the assertion's parse, claim
// checks and signature check alone, per algorithm (BenchmarkClientAssertion),
// and the whole client credentials grant with a fresh assertion each time
// (its jti written to the store) next to the same grant with a secret
// (BenchmarkTokenClientCredentials).
//
//	go test -run '^$' -bench 'ClientAssertion|ClientCredentials' ./provider

func BenchmarkClientAssertion(b *testing.B) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	for _, tt := range []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
	}{{jose.ES256, ec}, {jose.PS256, rs}, {jose.RS256, rs}, {jose.EdDSA, ed}} {
		b.Run(string(tt.alg), func(b *testing.B) {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tt.alg, Key: tt.key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
			if err != nil {
				b.Fatal(err)
			}
			raw, err := jwt.Signed(signer).Claims(map[string]any{"iss": "c", "sub": "c", "aud": benchIssuer,
				"jti": "j", "exp": now.Add(time.Minute).Unix()}).Serialize()
			if err != nil {
				b.Fatal(err)
			}
			keys := []jose.JSONWebKey{{Key: tt.key.Public(), KeyID: "k", Algorithm: string(tt.alg)}}
			for b.Loop() {
				tok, _, oerr := parseAssertion(raw, benchIssuer, "c", now)
				if oerr != nil {
					b.Fatal(oerr)
				}
				var out json.RawMessage
				if err := tok.Claims(candidateKeys(keys, tok.Headers[0])[0].Key, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokenClientCredentialsPrivateKeyJWT is the client credentials
// grant of a private_key_jwt client, a new assertion (new jti) each time,
// signed before the timer starts.
func BenchmarkTokenClientCredentialsPrivateKeyJWT(b *testing.B) {
	e := newBenchEnv(b)
	sign := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = e.partner.assertion(b, "pkjwt", benchIssuer, time.Now(), time.Minute)
		}
		return out
	}
	b.Run("serial", func(b *testing.B) {
		assertions := sign(b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := e.assertedToken(assertions[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		assertions := sign(b.N)
		var next atomic.Int64
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := e.assertedToken(assertions[next.Add(1)-1]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func (e *benchEnv) assertedToken(assertion string) error {
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion},
		"client_assertion": {assertion}}
	req := httptest.NewRequest(http.MethodPost, benchIssuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("token endpoint: %d %s", rec.Code, rec.Body.String())
	}
	return nil
}
