package conformance

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ID token validation as OpenID Connect Core 1.0 §3.1.3.7 tells a relying
// party to do it, each step a check that fails the module.

// idToken is an ID token's claims as the relying party reads them.
type idToken struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"` // a string or an array (§2)
	Expiry   *float64        `json:"exp"`
	IssuedAt *float64        `json:"iat"`
	AuthTime *float64        `json:"auth_time"`
	Nonce    *string         `json:"nonce"`
	ACR      string          `json:"acr"`
	AMR      []string        `json:"amr"`
	AZP      *string         `json:"azp"`
	ATHash   string          `json:"at_hash"`
	CHash    string          `json:"c_hash"`
	SID      string          `json:"sid"`

	header jose.Header
	claims map[string]any
}

// idWant is what the relying party expects of one ID token.
type idWant struct {
	nonce       string // the nonce sent ("" when none was: then none may come back)
	accessToken string // the access token issued with it, for at_hash
	code        string // the code it was issued for, for c_hash
	authTime    bool   // auth_time REQUIRED (max_age was sent, §2)
	// refreshOf is the ID token of the login a refresh grant continues:
	// its nonce may come back or not (§12.2 keeps the original's claims).
	refreshOf *idToken
}

// skew is the clock difference a relying party tolerates: the server and
// the test share the machine's clock.
const skew = 5 * time.Second

// verifyIDToken validates raw for client c and returns its claims.
func (p *provider) verifyIDToken(t *testing.T, raw string, c client, want idWant) idToken {
	t.Helper()
	if strings.Count(raw, ".") != 2 {
		t.Fatalf("ID token is not a compact JWS (an encrypted or unsecured one was not asked for): %.80s", raw)
	}
	// §3.1.3.7 step 7: the alg the client registered (RS256 by default),
	// never none, and one discovery advertises.
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.HS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("ID token does not parse as a JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("ID token has %d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	if h.Algorithm != c.alg || !slices.Contains(p.list("id_token_signing_alg_values_supported"), h.Algorithm) {
		t.Errorf("ID token alg %q, want the client's registered %s, advertised in %v", h.Algorithm, c.alg, p.list("id_token_signing_alg_values_supported"))
	}
	// §10.1: a kid names the key when the set has more than one.
	if h.KeyID == "" {
		t.Fatal("ID token header has no kid, and the key set has several keys")
	}
	keys := p.keys.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q names %d keys of the key set", h.KeyID, len(keys))
	}
	key := keys[0]
	if (key.Algorithm != "" && key.Algorithm != h.Algorithm) || (key.Use != "" && key.Use != "sig") || !key.IsPublic() {
		t.Errorf("key %s: alg %q use %q public %v; want the token's alg, use sig, public", h.KeyID, key.Algorithm, key.Use, key.IsPublic())
	}
	payload, err := jws.Verify(key)
	if err != nil {
		t.Fatalf("ID token signature does not verify with key %s: %v", h.KeyID, err)
	}
	var tok idToken
	if err := json.Unmarshal(payload, &tok); err != nil {
		t.Fatalf("ID token claims: %v", err)
	}
	_ = json.Unmarshal(payload, &tok.claims)
	tok.header = h
	p.checkIDClaims(t, &tok, c, want)
	return tok
}

// checkIDClaims is §3.1.3.7 steps 2-4 and 9-13, §2 and §3.1.3.6.
func (p *provider) checkIDClaims(t *testing.T, tok *idToken, c client, want idWant) {
	t.Helper()
	now := time.Now()
	if tok.Issuer != p.s.Issuer {
		t.Errorf("iss %q, want exactly the issuer %q", tok.Issuer, p.s.Issuer)
	}
	if tok.Subject == "" || len(tok.Subject) > 255 || !vschar(tok.Subject) {
		t.Errorf("sub %q: want 1 to 255 ASCII characters", tok.Subject)
	}
	aud := audience(t, tok.Audience)
	if !slices.Contains(aud, c.id) {
		t.Errorf("aud %v does not contain the client %s", aud, c.id)
	}
	switch {
	case tok.AZP != nil && *tok.AZP != c.id:
		t.Errorf("azp %q, want the client %s", *tok.AZP, c.id)
	case tok.AZP == nil && len(aud) > 1:
		t.Errorf("aud %v has several audiences and no azp", aud)
	}
	if tok.Expiry == nil || tok.IssuedAt == nil {
		t.Fatalf("exp %v and iat %v are REQUIRED", tok.Expiry, tok.IssuedAt)
	}
	exp, iat := unix(*tok.Expiry), unix(*tok.IssuedAt)
	if !exp.After(now) || !exp.After(iat) {
		t.Errorf("exp %s: want after now (%s) and after iat %s", exp, now, iat)
	}
	if iat.After(now.Add(skew)) || iat.Before(now.Add(-time.Minute)) {
		t.Errorf("iat %s: want about now (%s)", iat, now)
	}
	switch {
	case want.refreshOf != nil:
		if tok.Nonce != nil && deref(want.refreshOf.Nonce) != *tok.Nonce {
			t.Errorf("refreshed ID token's nonce %q, want none or the original's %s", *tok.Nonce, deref(want.refreshOf.Nonce))
		}
	case want.nonce != "" && (tok.Nonce == nil || *tok.Nonce != want.nonce):
		t.Errorf("nonce %v, want %q", deref(tok.Nonce), want.nonce)
	case want.nonce == "" && tok.Nonce != nil:
		t.Errorf("nonce %q in the ID token of a request that sent none (§3.1.2.1)", *tok.Nonce)
	}
	if want.authTime && tok.AuthTime == nil {
		t.Error("auth_time is REQUIRED when max_age was requested (§2, §3.1.2.1)")
	}
	if tok.AuthTime != nil {
		if at := unix(*tok.AuthTime); at.After(iat.Add(time.Second)) || at.After(now.Add(skew)) {
			t.Errorf("auth_time %s after iat %s or now", at, iat)
		}
	}
	if tok.ACR != "" && !slices.Contains(p.list("acr_values_supported"), tok.ACR) {
		t.Errorf("acr %q is not among acr_values_supported %v", tok.ACR, p.list("acr_values_supported"))
	}
	if _, ok := tok.claims["amr"]; ok && tok.AMR == nil {
		t.Errorf("amr %v: want an array of strings", tok.claims["amr"])
	}
	alg := tok.header.Algorithm
	if tok.ATHash != "" && want.accessToken != "" && tok.ATHash != halfHash(alg, want.accessToken) {
		t.Errorf("at_hash %q does not match the access token (§3.1.3.8)", tok.ATHash)
	}
	if tok.CHash != "" && want.code != "" && tok.CHash != halfHash(alg, want.code) {
		t.Errorf("c_hash %q does not match the code (§3.3.2.11)", tok.CHash)
	}
}

// verifiesWithKeySet reports whether raw's signature verifies with the
// key its kid names.
func verifiesWithKeySet(p *provider, raw string) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return err
	}
	keys := p.keys.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return errors.New("no key of the set has the token's kid")
	}
	_, err = jws.Verify(keys[0])
	return err
}

// audience reads aud: a string or an array of strings.
func audience(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		t.Errorf("aud %s: want a string or a non-empty array of strings", raw)
	}
	return many
}

// halfHash is the at_hash/c_hash of v for a token signed with alg: the
// left half of its hash with the alg's hash function, base64url (§3.1.3.6).
// RS256 and ES256, the algorithms Tsubasa signs with, both use SHA-256.
func halfHash(alg, v string) string {
	if !strings.HasSuffix(alg, "256") {
		return "unsupported alg " + alg
	}
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

func unix(f float64) time.Time { return time.Unix(int64(f), 0) }

func deref(s *string) string {
	if s == nil {
		return "(absent)"
	}
	return *s
}

// authTime is an ID token's auth_time, 0 when absent.
func (tok idToken) authTime() int64 {
	if tok.AuthTime == nil {
		return 0
	}
	return int64(*tok.AuthTime)
}
