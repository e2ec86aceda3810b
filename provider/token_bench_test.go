package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// The token endpoint's hot paths on a real bbolt file, through the same
// handler the server mounts: code exchange (code claim, token minting, ID
// token signing, auth request deletion), refresh rotation and client
// credentials, for RS256 and ES256 clients. Writes go through db.Batch and
// fsync, so the serial benchmarks show one request's floor and the
// Parallel ones what concurrent requests sharing commits reach.
//
//	go test -run '^$' -bench . -count 6 ./provider | tee new.txt; benchstat old.txt new.txt

const (
	benchIssuer   = "http://127.0.0.1:1"
	benchRedirect = benchIssuer + "/cb"
	benchSecret   = "bench-secret-0123456789"
	benchVerifier = "bench-verifier-0123456789-0123456789-0123456789"
)

var benchAlgs = []string{AlgRS256, AlgES256}

// benchEnv is a provider on a temporary database with one member and a
// confidential client per algorithm (client id = algorithm).
type benchEnv struct {
	p       *Provider
	st      *bolt.Store
	handler http.Handler
	member  storage.Member
	seq     atomic.Int64 // makes auth request ids unique
	// partner signs the assertions of client "pkjwt" (private_key_jwt, ES256).
	partner partnerKey
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	key := []byte("bench-hmac-key-0123456789abcdef-0123456789")
	var clients []storage.Client
	for _, alg := range benchAlgs {
		clients = append(clients, storage.Client{
			ID: alg, Name: alg, SecretHash: HashSecret(key, benchSecret), RedirectURIs: []string{benchRedirect},
			GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials},
			Scopes:     []string{"openid", "profile", "email", ScopeMembership, "offline_access"}, IDTokenAlg: alg,
		})
	}
	partner := newPartnerKey(b, "bench-partner")
	clients = append(clients, storage.Client{ID: "pkjwt", Name: "pkjwt", TokenEndpointAuthMethod: "private_key_jwt",
		JWKS: partner.jwks, GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"openid"}})
	ctx := context.Background()
	p, err := New(ctx, Options{
		Issuer: benchIssuer, Store: st, Clients: clients, HMACKey: key, CryptoKey: [32]byte{1, 2, 3},
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: time.Hour, RefreshTokenTTL: 720 * time.Hour,
		CodeTTL: time.Minute, AuthRequestTTL: 30 * time.Minute,
		EndSession: func(http.ResponseWriter, *http.Request, LogoutRequest) {}, LogoutRefused: func(http.ResponseWriter, *http.Request, LogoutRefusal) {},
		LoginURL: func(id string) string { return "/login?authRequestID=" + id },
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	m := storage.Member{
		ID: "m-bench", Number: "1234567", FamilyName: "空野", GivenName: "花子",
		FamilyNameLatin: "SORANO", GivenNameLatin: "HANAKO", Email: "hanako@example.com", EmailVerified: true,
		Locale: "ja", Status: storage.MemberActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := st.CreateMember(ctx, m); err != nil {
		b.Fatal(err)
	}
	return &benchEnv{p: p, st: st, handler: p.Handler(), member: m, partner: partner}
}

// doneRequest is an auth request a member has completed, as the login UI
// leaves it for the callback.
func (e *benchEnv) doneRequest(id, clientID string) storage.AuthRequest {
	now := time.Now().UTC()
	sum := sha256.Sum256([]byte(benchVerifier))
	return storage.AuthRequest{
		ID: id, ClientID: clientID, RedirectURI: benchRedirect, State: "state", Nonce: "nonce",
		ResponseType: "code", Scopes: []string{"openid", "profile", "email", ScopeMembership, "offline_access"},
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256",
		MemberID: e.member.ID, Done: true, AuthTime: now, ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		SessionID: "s-bench", BrowserSession: "s-bench", CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute),
	}
}

// codes prepares n completed requests with a code each, as the callback
// leaves them, 64 at a time so that they share commits.
func (e *benchEnv) codes(b *testing.B, clientID string, n int) []string {
	b.Helper()
	ctx, s := context.Background(), &opStorage{e.p}
	out := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				id := fmt.Sprintf("ar-%s-%d", clientID, e.seq.Add(1))
				if err := e.st.CreateAuthRequest(ctx, e.doneRequest(id, clientID)); err != nil {
					failed.Store(err)
					return
				}
				out[i] = "code-" + id
				if err := s.SaveAuthCode(ctx, id, out[i]); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return out
}

// token posts a token request as clientID and returns the answer.
func (e *benchEnv) token(clientID string, form url.Values) (map[string]any, error) {
	req := httptest.NewRequest(http.MethodPost, benchIssuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, benchSecret)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("token endpoint: %d %s", rec.Code, rec.Body.String())
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func codeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {benchRedirect}, "code_verifier": {benchVerifier}}
}

// BenchmarkTokenCode is the code exchange: claim, mint an access and a
// refresh token, sign the ID token, delete the request.
func BenchmarkTokenCode(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b)
			codes := e.codes(b, alg, b.N)
			b.ResetTimer()
			for i := range b.N {
				if _, err := e.token(alg, codeForm(codes[i])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTokenCodeParallel(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b)
			codes := e.codes(b, alg, b.N)
			var next atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.token(alg, codeForm(codes[next.Add(1)-1])); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// refreshChain rotates one refresh token over and over, as a client does.
type refreshChain struct {
	e     *benchEnv
	alg   string
	token string
}

func (e *benchEnv) newChain(b *testing.B, alg string) *refreshChain {
	out, err := e.token(alg, codeForm(e.codes(b, alg, 1)[0]))
	if err != nil {
		b.Fatal(err)
	}
	return &refreshChain{e: e, alg: alg, token: out["refresh_token"].(string)}
}

func (c *refreshChain) rotate() error {
	out, err := c.e.token(c.alg, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.token}})
	if err != nil {
		return err
	}
	rt, _ := out["refresh_token"].(string)
	if rt == "" || out["id_token"] == nil {
		return fmt.Errorf("refresh answer without a refresh or ID token: %v", out)
	}
	c.token = rt
	return nil
}

// BenchmarkTokenRefresh is refresh rotation with a new ID token.
func BenchmarkTokenRefresh(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b)
			c := e.newChain(b, alg)
			b.ResetTimer()
			for range b.N {
				if err := c.rotate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTokenRefreshParallel(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b)
			b.SetParallelism(16)
			// One chain per goroutine RunParallel starts.
			chains := make(chan *refreshChain, 16*runtime.GOMAXPROCS(0))
			var wg sync.WaitGroup
			for range cap(chains) {
				wg.Go(func() { chains <- e.newChain(b, alg) })
			}
			wg.Wait()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := <-chains
				for pb.Next() {
					if err := c.rotate(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkTokenClientCredentials mints one stored access token per call.
func BenchmarkTokenClientCredentials(b *testing.B) {
	e := newBenchEnv(b)
	form := url.Values{"grant_type": {"client_credentials"}}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.token(AlgES256, form); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.token(AlgES256, form); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkClaimCode is the storage side of a code exchange alone: the
// atomic claim and the request it returns.
func BenchmarkClaimCode(b *testing.B) {
	e := newBenchEnv(b)
	codes := e.codes(b, AlgES256, b.N)
	s, ctx := &opStorage{e.p}, context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.AuthRequestByCode(ctx, codes[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRotateRefresh is the storage side of a refresh alone: look the
// token up, consume it and store its successor with an access token.
func BenchmarkRotateRefresh(b *testing.B) {
	e := newBenchEnv(b)
	c := e.newChain(b, AlgES256)
	s, ctx := &opStorage{e.p}, context.Background()
	token := c.token
	b.ResetTimer()
	for range b.N {
		req, err := s.TokenRequestByRefreshToken(ctx, token)
		if err != nil {
			b.Fatal(err)
		}
		if _, token, _, err = s.CreateAccessAndRefreshTokens(ctx, req, token); err != nil {
			b.Fatal(err)
		}
	}
}
