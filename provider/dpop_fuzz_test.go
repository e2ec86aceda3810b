package provider

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The DPoP proof parser takes what any caller of the token endpoint,
// userinfo or the telephone API sends in a header. Whatever the input it
// must not panic, and what it accepts must be a proof for the request it
// came with: the method, the URL, a hash of the token, an iat in the
// window, and a thumbprint of 32 bytes. The claims parser (the claims
// parameter, dpop_jkt) must not panic either, and what it accepts holds
// only supported claim names and a dpop_jkt of 32 bytes.
//
//	go test -run '^$' -fuzz FuzzDPoPProof ./provider
//	go test -run '^$' -fuzz FuzzRequestExtras ./provider

func FuzzDPoPProof(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	k := newProofKey(f)
	claims := proofClaimsFor("GET", testURL, now)
	claims["ath"] = athOf("tok")
	good := k.proof(f, claims, nil)
	parts := strings.Split(good, ".")
	for _, seed := range []string{
		good,
		"eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ." + parts[1] + ".",
		parts[0] + "." + parts[1] + ".AAAA",
		parts[0] + ".e30." + parts[2],
		good + "." + good,
		"a.b.c", "", "...", strings.Repeat("A", 9000),
	} {
		f.Add(seed)
	}
	want := proofWant{method: "GET", url: testURL, accessToken: "tok", algs: dpopSigningAlgs, maxAge: time.Minute}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := checkProof(raw, want, now)
		if err != nil {
			return
		}
		jws, perr := jose.ParseSignedCompact(raw, dpopSigningAlgs)
		if perr != nil {
			t.Fatalf("accepted a proof go-jose cannot parse: %v", perr)
		}
		var c proofClaims
		if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c) != nil || c.HTM != "GET" ||
			!sameHTU(c.HTU, testURL) || c.ATH == nil || *c.ATH != athOf("tok") {
			t.Fatalf("accepted a proof for another request: %+v", c)
		}
		if sum, err := base64.RawURLEncoding.DecodeString(p.jkt); err != nil || len(sum) != 32 {
			t.Fatalf("thumbprint %q", p.jkt)
		}
		if p.iat.Before(now.Add(-time.Minute)) || p.iat.After(now.Add(dpopFutureLeeway)) || p.jti == "" {
			t.Fatalf("accepted %+v outside the window", p)
		}
	})
}

func FuzzRequestExtras(f *testing.F) {
	for _, seed := range []string{
		`{"id_token":{"email":null,"acr":{"essential":true,"values":["urn:tsubasa:acr:otp"]}}}`,
		`{"userinfo":{"name":{"essential":true}},"id_token":{"auth_time":{"essential":true}}}`,
		`{"id_token":{"sub":{"value":"x"}}}`, `{"id_token":null}`, `[]`, `null`, `{"id_token":{"acr":{"values":[1]}}}`,
	} {
		f.Add(seed, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
	}
	f.Fuzz(func(t *testing.T, claims, jkt string) {
		x, oerr := parseExtras(url.Values{"claims": {claims}, "dpop_jkt": {jkt}})
		if oerr != nil {
			return
		}
		for _, n := range x.idTokenClaims {
			if !slices.Contains(supportedClaims, n) {
				t.Fatalf("unsupported claim %q taken", n)
			}
		}
		if x.dpopJKT != "" {
			if b, err := base64.RawURLEncoding.DecodeString(x.dpopJKT); err != nil || len(b) != 32 {
				t.Fatalf("dpop_jkt %q taken", x.dpopJKT)
			}
		}
	})
}
