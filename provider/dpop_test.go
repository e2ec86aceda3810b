package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// proofKey makes DPoP proofs (RFC 9449 §4.2) for tests: what a client does.
type proofKey struct {
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
}

func newProofKey(t testing.TB) proofKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return proofKey{priv: k, alg: jose.ES256}
}

// jkt is the key's RFC 7638 thumbprint.
func (k proofKey) jkt(t testing.TB) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: k.priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// proof signs claims with headers typ dpop+jwt and jwk (the public key);
// header overrides (nil deletes).
func (k proofKey) proof(t testing.TB, claims map[string]any, header map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("dpop+jwt")
	opts.EmbedJWK = true
	for h, v := range header {
		if v == nil {
			delete(opts.ExtraHeaders, h)
			if h == "jwk" {
				opts.EmbedJWK = false
			}
			continue
		}
		opts = opts.WithHeader(h, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// proofClaimsFor are a sound proof's claims for method and url at now.
func proofClaimsFor(method, url string, now time.Time) map[string]any {
	return map[string]any{"jti": newID(12), "htm": method, "htu": url, "iat": now.Unix()}
}

func athOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const testURL = "https://id.example.com/userinfo"

func TestCheckProof(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	k := newProofKey(t)
	other := newProofKey(t)
	want := proofWant{method: "GET", url: testURL, accessToken: "tok", algs: dpopSigningAlgs, maxAge: time.Minute}
	good := func() map[string]any {
		c := proofClaimsFor("GET", testURL, now)
		c["ath"] = athOf("tok")
		return c
	}
	with := func(kv ...any) map[string]any {
		c := good()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	edKey := proofKey{priv: ed, alg: jose.EdDSA}
	for name, tt := range map[string]struct {
		raw  string
		fail string // "" = accepted; else part of the description
	}{
		"sound":                        {k.proof(t, good(), nil), ""},
		"EdDSA":                        {edKey.proof(t, good(), nil), ""},
		"htu with query and fragment":  {k.proof(t, with("htu", testURL+"?a=1#f"), nil), ""},
		"htu with upper-case host":     {k.proof(t, with("htu", "HTTPS://ID.Example.COM/userinfo"), nil), ""},
		"htu with the default port":    {k.proof(t, with("htu", "https://id.example.com:443/userinfo"), nil), ""},
		"iat 10 s ahead":               {k.proof(t, with("iat", now.Add(10*time.Second).Unix()), nil), ""},
		"iat 50 s old":                 {k.proof(t, with("iat", now.Add(-50*time.Second).Unix()), nil), ""},
		"nbf and exp":                  {k.proof(t, with("nbf", now.Unix(), "exp", now.Add(5*time.Minute).Unix()), nil), ""},
		"extra claims and headers":     {k.proof(t, with("x", "y"), map[jose.HeaderKey]any{"extra": "z"}), ""},
		"typ dpop+JWT (any case)":      {k.proof(t, good(), map[jose.HeaderKey]any{"typ": "DPoP+JWT"}), ""},
		"not a JWT":                    {"abc", "compact"},
		"encrypted (five parts)":       {"a.b.c.d.e", "compact"},
		"no typ":                       {k.proof(t, good(), map[jose.HeaderKey]any{"typ": nil}), "typ"},
		"typ JWT":                      {k.proof(t, good(), map[jose.HeaderKey]any{"typ": "JWT"}), "typ"},
		"no jwk":                       {k.proof(t, good(), map[jose.HeaderKey]any{"jwk": nil}), "jwk"},
		"signed by another key":        {swapSignature(t, k.proof(t, good(), nil), other.proof(t, good(), nil)), "signature"},
		"a 1024-bit RSA key":           {proofKey{priv: rsaSmall, alg: jose.PS256}.proof(t, good(), nil), "2048"},
		"no jti":                       {k.proof(t, with("jti", nil), nil), "jti"},
		"a 300-character jti":          {k.proof(t, with("jti", strings.Repeat("j", 300)), nil), "jti"},
		"another method":               {k.proof(t, with("htm", "POST"), nil), "htm"},
		"lower-case method":            {k.proof(t, with("htm", "get"), nil), "htm"},
		"another URL":                  {k.proof(t, with("htu", "https://id.example.com/oauth/token"), nil), "htu"},
		"another host":                 {k.proof(t, with("htu", "https://evil.example.com/userinfo"), nil), "htu"},
		"http for https":               {k.proof(t, with("htu", "http://id.example.com/userinfo"), nil), "htu"},
		"no htu":                       {k.proof(t, with("htu", nil), nil), "htu"},
		"no iat":                       {k.proof(t, with("iat", nil), nil), "iat"},
		"iat an hour ahead":            {k.proof(t, with("iat", now.Add(time.Hour).Unix()), nil), "future"},
		"iat an hour old":              {k.proof(t, with("iat", now.Add(-time.Hour).Unix()), nil), "too old"},
		"expired":                      {k.proof(t, with("exp", now.Add(-time.Hour).Unix()), nil), "expired"},
		"no ath":                       {k.proof(t, with("ath", nil), nil), "ath"},
		"ath of another token":         {k.proof(t, with("ath", athOf("other")), nil), "ath"},
		"claims of the wrong type":     {k.proof(t, with("iat", "yesterday"), nil), "claims"},
		"none":                         {noneProof(t, good()), "signed"},
		"an HMAC":                      {hmacProof(t, good()), "signed"},
		"an algorithm not allowed now": {edKey.proof(t, good(), nil), "signed"},
	} {
		t.Run(name, func(t *testing.T) {
			w := want
			if name == "an algorithm not allowed now" {
				w.algs = fapi2Algs
			}
			p, err := checkProof(tt.raw, w, now)
			switch {
			case tt.fail == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.fail == "":
				if p.jkt == "" || p.jti == "" || p.iat.IsZero() {
					t.Errorf("accepted proof %+v", p)
				}
			case err == nil:
				t.Fatalf("accepted, want a refusal about %s", tt.fail)
			case !strings.Contains(err.Error(), tt.fail):
				t.Errorf("refused with %q, want it to name %s", err, tt.fail)
			}
		})
	}
	if p, err := checkProof(k.proof(t, good(), nil), want, now); err != nil || p.jkt != k.jkt(t) {
		t.Errorf("jkt %q (%v), want the key's RFC 7638 thumbprint %q", p.jkt, err, k.jkt(t))
	}
}

// swapSignature puts b's signature on a's header and payload.
func swapSignature(t *testing.T, a, b string) string {
	t.Helper()
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return pa[0] + "." + pa[1] + "." + pb[2]
}

// noneProof is an unsigned proof (alg none) carrying a real public key.
func noneProof(t *testing.T, claims map[string]any) string {
	t.Helper()
	k := newProofKey(t)
	header := `{"alg":"none","typ":"dpop+jwt","jwk":` + jwkJSON(t, k.priv.Public()) + `}`
	return b64(header) + "." + b64(mustJSON(t, claims)) + "."
}

// hmacProof is a proof "signed" with HS256 under a symmetric jwk.
func hmacProof(t *testing.T, claims map[string]any) string {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
		(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", map[string]string{"kty": "oct", "k": b64(string(secret))}))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSameHTU(t *testing.T) {
	for _, tt := range []struct {
		htu, want string
		same      bool
	}{
		{"https://a.example/x", "https://a.example/x", true},
		{"https://a.example:443/x?q#f", "https://A.EXAMPLE/x", true},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x", true},
		{"http://[::1]:80/x", "http://[::1]/x", true},
		{"https://a.example/x/", "https://a.example/x", false},
		{"https://a.example/X", "https://a.example/x", false},
		{"https://a.example:8443/x", "https://a.example/x", false},
		{"https://user@a.example/x", "https://a.example/x", false},
		{"ftp://a.example/x", "ftp://a.example/x", false},
		{"/x", "/x", false},
		{"https://a.example", "https://a.example/", true},
	} {
		if got := sameHTU(tt.htu, tt.want); got != tt.same {
			t.Errorf("sameHTU(%q, %q) = %v, want %v", tt.htu, tt.want, got, tt.same)
		}
	}
}

func TestDPoPNonces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	n := newDPoPNonces(key, false, 2*time.Minute, clock)
	v := n.issue()
	if !n.valid(v) || n.issue() != v {
		t.Fatalf("a fresh nonce %q is not valid, or changes within a second", v)
	}
	replica := newDPoPNonces(key, false, 2*time.Minute, clock)
	if !replica.valid(v) {
		t.Error("another replica with the same master secret refuses the nonce")
	}
	if newDPoPNonces(key, true, 2*time.Minute, clock).valid(v) {
		t.Error("a process-bound key accepts another process's nonce")
	}
	if newDPoPNonces([]byte("another key, another key, another"), false, 2*time.Minute, clock).valid(v) {
		t.Error("a nonce made under another key is accepted")
	}
	b, _ := base64.RawURLEncoding.DecodeString(v)
	b[len(b)-1] ^= 1
	for _, bad := range []string{"", "x", base64.RawURLEncoding.EncodeToString(b), v + "A"} {
		if n.valid(bad) {
			t.Errorf("nonce %q accepted", bad)
		}
	}
	now = now.Add(2*time.Minute + time.Second)
	if n.valid(v) {
		t.Error("an expired nonce is accepted")
	}
	if (&dpopNonces{}).required() || (*dpopNonces)(nil).required() {
		t.Error("nonces are required with no lifetime")
	}
}

func b64[T string | []byte](s T) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jwkJSON(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: pub}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
