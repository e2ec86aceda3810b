package provider

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// What DPoP costs per request: the proof's parse, claim checks and
// signature check alone (BenchmarkDPoPProof), and userinfo with a
// DPoP-bound token and a fresh proof each time, its jti written to the
// store (BenchmarkUserinfoDPoP), next to BenchmarkUserinfo's Bearer token.
// Proofs are signed before the timer starts.
//
//	go test -run '^$' -bench 'DPoP|Userinfo' ./provider

func BenchmarkDPoPProof(b *testing.B) {
	now := time.Now()
	k := newProofKey(b)
	claims := proofClaimsFor("GET", testURL, now)
	claims["ath"] = athOf("tok")
	raw := k.proof(b, claims, nil)
	want := proofWant{method: "GET", url: testURL, accessToken: "tok", algs: dpopSigningAlgs, maxAge: time.Minute}
	for b.Loop() {
		if _, err := checkProof(raw, want, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserinfoDPoP(b *testing.B) {
	e := newBenchEnv(b)
	key := newProofKey(b)
	access := e.boundToken(b, key, codeForm(e.codes(b, AlgES256, 1)[0]))
	sign := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			c := proofClaimsFor("GET", benchIssuer+"/userinfo", time.Now())
			c["ath"] = athOf(access)
			out[i] = key.proof(b, c, nil)
		}
		return out
	}
	proofs := sign(b.N)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, benchIssuer+"/userinfo", nil)
			req.Header.Set("Authorization", "DPoP "+access)
			req.Header.Set("DPoP", proofs[next.Add(1)-1])
			e.serve(b, req, `"member_number":"1234567"`)
		}
	})
}

// boundToken exchanges form as the ES256 client with a proof by key and
// returns the DPoP-bound access token.
func (e *benchEnv) boundToken(b *testing.B, key proofKey, form url.Values) string {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, benchIssuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(AlgES256, benchSecret)
	req.Header.Set("DPoP", key.proof(b, proofClaimsFor("POST", benchIssuer+"/oauth/token", time.Now()), nil))
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.TokenType != "DPoP" {
		b.Fatalf("token endpoint: %d %s", rec.Code, rec.Body.String())
	}
	return out.AccessToken
}
