package provider

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// The provider's CPU-only paths: ID token claims and signing, the opaque
// access token's encryption, and the read endpoints relying parties call
// most (userinfo, introspection, discovery, JWKS). None writes to storage.

// BenchmarkIDToken builds and signs an ID token as the code exchange does
// (claims from the member record, at_hash, c_hash), per algorithm.
func BenchmarkIDToken(b *testing.B) {
	e := newBenchEnv(b)
	s := &opStorage{e.p}
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			c, err := e.p.clients.get(context.Background(), alg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := op.ContextWithIssuer(context.WithValue(context.Background(), clientKey{}, alg), benchIssuer)
			req := &authRequest{r: e.doneRequest("ar", alg), subject: e.member.ID}
			client := e.p.opClient(c)
			for b.Loop() {
				if _, err := op.CreateIDToken(ctx, benchIssuer, req, time.Hour, "access-token", "code", s, client); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAccessTokenCrypto is the opaque access token's encryption and
// decryption (op's AES-256-GCM crypto), paid at every mint and every use.
func BenchmarkAccessTokenCrypto(b *testing.B) {
	e := newBenchEnv(b)
	crypto := e.p.op.Crypto()
	plain := newID(16) + ":" + e.member.ID
	sealed, err := crypto.Encrypt(plain)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encrypt", func(b *testing.B) {
		for b.Loop() {
			if _, err := crypto.Encrypt(plain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decrypt", func(b *testing.B) {
		for b.Loop() {
			if _, err := crypto.Decrypt(sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// readEnv is a bench environment with an access token for the member.
func readEnv(b *testing.B) (*benchEnv, string) {
	e := newBenchEnv(b)
	out, err := e.token(AlgES256, codeForm(e.codes(b, AlgES256, 1)[0]))
	if err != nil {
		b.Fatal(err)
	}
	return e, out["access_token"].(string)
}

// serve runs one request through the provider's handler and wants a 200
// whose body contains want.
func (e *benchEnv) serve(b *testing.B, req *http.Request, want string) {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, rec.Code, rec.Body.String())
	}
}

func BenchmarkUserinfo(b *testing.B) {
	e, access := readEnv(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, benchIssuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+access)
			e.serve(b, req, `"member_number":"1234567"`)
		}
	})
}

func BenchmarkIntrospect(b *testing.B) {
	e, access := readEnv(b)
	body := url.Values{"token": {access}}.Encode()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, benchIssuer+"/oauth/introspect", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(AlgES256, benchSecret)
			e.serve(b, req, `"active":true`)
		}
	})
}

func BenchmarkDiscovery(b *testing.B) {
	e := newBenchEnv(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.serve(b, httptest.NewRequest(http.MethodGet, benchIssuer+"/.well-known/openid-configuration", nil), `"issuer"`)
		}
	})
}

func BenchmarkJWKS(b *testing.B) {
	e := newBenchEnv(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.serve(b, httptest.NewRequest(http.MethodGet, benchIssuer+"/keys", nil), `"keys"`)
		}
	})
}

// BenchmarkJWKSRotated serves the key set as it stands after a rotation:
// the new RS256 and ES256 keys plus the two retired ones.
func BenchmarkJWKSRotated(b *testing.B) {
	e := newBenchEnv(b)
	if _, err := e.p.RotateKeys(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.serve(b, httptest.NewRequest(http.MethodGet, benchIssuer+"/keys", nil), `"keys"`)
		}
	})
}

// BenchmarkWellKnownHTTP fetches discovery and the key set over a real
// loopback server with keep-alive, as relying parties do: the server's
// share is what the handler changes, the rest is net/http on both ends.
func BenchmarkWellKnownHTTP(b *testing.B) {
	e := newBenchEnv(b)
	srv := httptest.NewServer(e.handler)
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		b.Run(strings.TrimPrefix(path, "/"), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(srv.URL + path)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("%s: %d", path, resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
