package attack

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on DPoP-bound tokens (RFC 9449): an attacker who has captured a
// request (its proof and token), or stolen a token or a refresh token, and
// holds a key of their own. Each fails on a server without the control
// it names: the proof's single use, its htm and htu, its ath, the binding
// of the token (and of a public client's refresh token, and of a code) to
// the key, and the refusal of a bound token sent as a Bearer token.

// boundTokens logs the member in through the public app "spa", exchanging
// and refreshing with proofs by key: a DPoP-bound access token and
// refresh token.
func boundTokens(t *testing.T, s *e2e.Server, key *e2e.DPoPKey) *oauth2.Token {
	t.Helper()
	rp := e2e.NewRP(t, s, "spa", "", "openid", "profile", "offline_access")
	f := e2e.NewFlow()
	cb := e2e.Login(t, e2e.NewBrowser(t, s), rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)
	ctx := e2e.DPoPContext(t, key)
	tok, _, err := rp.Exchange(ctx, f, cb)
	if err != nil || tok.TokenType != "DPoP" {
		t.Fatalf("a bound token: %v (type %v)", err, tok)
	}
	return tok
}

// userinfo sends GET /userinfo with authorization and a DPoP header
// (none when empty).
func userinfo(t *testing.T, s *e2e.Server, authorization, proof string) e2e.Wire {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e2e.WireDo(t, req)
}

// refused checks a resource answer is a 401 with error code.
func refused(t *testing.T, what string, w e2e.Wire, code string) {
	t.Helper()
	if w.Status != http.StatusUnauthorized || w.JSON(t)["error"] != code {
		t.Errorf("%s: %d %s, want 401 %s", what, w.Status, w.Body, code)
	}
}

// TestAttackReplayedDPoPProof: an attacker who captured a request to
// userinfo (its Authorization and DPoP headers) sends it again, at once.
// The proof was used: refused, though token, method, URL and ath fit.
// The same at the token endpoint, with the proof of a client's request.
func TestAttackReplayedDPoPProof(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	key := e2e.NewDPoPKey(t)
	tok := boundTokens(t, s, key)
	proof := key.Proof(t, http.MethodGet, s.Issuer+"/userinfo", tok.AccessToken)
	if w := userinfo(t, s, "DPoP "+tok.AccessToken, proof); w.Status != http.StatusOK {
		t.Fatalf("the first use: %d %s", w.Status, w.Body)
	}
	refused(t, "the proof replayed", userinfo(t, s, "DPoP "+tok.AccessToken, proof), "invalid_dpop_proof")

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"backend"}, "client_secret": {"backend-secret-0123456789"}}
	tokenProof := key.Proof(t, http.MethodPost, s.Issuer+"/oauth/token", "")
	for i, want := range []int{http.StatusOK, http.StatusBadRequest} {
		req := e2e.NewFormRequest(t.Context(), s.Issuer+"/oauth/token", form.Encode())
		req.Header.Set("DPoP", tokenProof)
		if w := e2e.WireDo(t, req); w.Status != want {
			t.Errorf("token request %d with one proof: %d %s, want %d", i+1, w.Status, w.Body, want)
		}
	}
}

// TestAttackDPoPProofForAnotherRequest: a proof made for one request is
// presented with another: another URL (the token endpoint's proof at
// userinfo, userinfo's at the telephone API), another method, another
// token (its ath), or a proof signed long ago.
func TestAttackDPoPProofForAnotherRequest(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	key := e2e.NewDPoPKey(t)
	tok := boundTokens(t, s, key)
	other := boundTokens(t, s, key)
	auth := "DPoP " + tok.AccessToken
	refused(t, "the token endpoint's proof at userinfo", userinfo(t, s, auth, key.Proof(t, http.MethodPost, s.Issuer+"/oauth/token", tok.AccessToken)), "invalid_dpop_proof")
	refused(t, "a POST proof with GET", userinfo(t, s, auth, key.Proof(t, http.MethodPost, s.Issuer+"/userinfo", tok.AccessToken)), "invalid_dpop_proof")
	refused(t, "a proof for another host", userinfo(t, s, auth, key.Proof(t, http.MethodGet, "https://evil.example/userinfo", tok.AccessToken)), "invalid_dpop_proof")
	refused(t, "the proof of another token (ath)", userinfo(t, s, auth, key.Proof(t, http.MethodGet, s.Issuer+"/userinfo", other.AccessToken)), "invalid_dpop_proof")
	refused(t, "a proof without ath", userinfo(t, s, auth, key.Proof(t, http.MethodGet, s.Issuer+"/userinfo", "")), "invalid_dpop_proof")
	old := key.ProofClaims(http.MethodGet, s.Issuer+"/userinfo", tok.AccessToken)
	old["iat"] = time.Now().Add(-10 * time.Minute).Unix()
	refused(t, "a proof signed ten minutes ago", userinfo(t, s, auth, key.Sign(t, old)), "invalid_dpop_proof")
	ahead := key.ProofClaims(http.MethodGet, s.Issuer+"/userinfo", tok.AccessToken)
	ahead["iat"] = time.Now().Add(10 * time.Minute).Unix()
	refused(t, "a proof dated ten minutes ahead", userinfo(t, s, auth, key.Sign(t, ahead)), "invalid_dpop_proof")

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/api/telephone/verify", strings.NewReader(`{}`))
	req.Header.Set("Authorization", auth)
	req.Header.Set("DPoP", key.Proof(t, http.MethodPost, s.Issuer+"/userinfo", tok.AccessToken))
	if w := e2e.WireDo(t, req); w.Status != http.StatusUnauthorized || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("userinfo's proof at the telephone API: %d %s", w.Status, w.Body)
	}
	if w := key.Get(t, s, "/userinfo", tok.AccessToken); w.Status != http.StatusOK {
		t.Errorf("a sound proof after the attempts: %d %s (the token must still work)", w.Status, w.Body)
	}
}

// TestAttackStolenDPoPTokenWithAnotherKey: an attacker with a stolen
// access token bound to key A signs perfect proofs with their own key B
// (right method, URL, ath, fresh jti): refused, as is the token sent as
// a plain Bearer token, in the header or in a form.
func TestAttackStolenDPoPTokenWithAnotherKey(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	tok := boundTokens(t, s, e2e.NewDPoPKey(t))
	attacker := e2e.NewDPoPKey(t)
	refused(t, "key B's proof", attacker.Get(t, s, "/userinfo", tok.AccessToken), "invalid_dpop_proof")
	refused(t, "the token as Bearer", userinfo(t, s, "Bearer "+tok.AccessToken, ""), "invalid_token")
	refused(t, "the token as Bearer with key B's proof", userinfo(t, s, "Bearer "+tok.AccessToken,
		attacker.Proof(t, http.MethodGet, s.Issuer+"/userinfo", tok.AccessToken)), "invalid_token")
	w := e2e.PostForm(t, s, "/userinfo", url.Values{"access_token": {tok.AccessToken}})
	refused(t, "the token in a form", w, "invalid_token")
	if r := e2e.PostTelephone(t, s, tok.AccessToken, `{}`); r.Status != http.StatusUnauthorized {
		t.Errorf("the token as Bearer at the telephone API: %d", r.Status)
	}
}

// TestAttackStolenBoundRefreshToken: a public app's refresh token, bound
// to its key (RFC 9449 §5), is redeemed by an attacker without a proof
// and with a proof by their own key: refused both times, and the app's
// own refresh still works (no family revoked by the attempts).
func TestAttackStolenBoundRefreshToken(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	key := e2e.NewDPoPKey(t)
	tok := boundTokens(t, s, key)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"spa"}}
	if w := e2e.PostForm(t, s, "/oauth/token", form); w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("the refresh token without a proof: %d %s", w.Status, w.Body)
	}
	if w := e2e.NewDPoPKey(t).PostFormDPoP(t, s, "/oauth/token", form); w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("the refresh token with another key's proof: %d %s", w.Status, w.Body)
	}
	if w := key.PostFormDPoP(t, s, "/oauth/token", form); w.Status != http.StatusOK {
		t.Errorf("the app's own refresh after the attempts: %d %s", w.Status, w.Body)
	}
}

// TestAttackForgedDPoPProofs: proofs no key made: alg none, an HMAC under
// a symmetric key the attacker chose, a private key in the header.
func TestAttackForgedDPoPProofs(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	key := e2e.NewDPoPKey(t)
	tok := boundTokens(t, s, key)
	good := key.Proof(t, http.MethodGet, s.Issuer+"/userinfo", tok.AccessToken)
	parts := strings.Split(good, ".")
	for what, proof := range map[string]string{
		"alg none":               b64(`{"alg":"none","typ":"dpop+jwt"}`) + "." + parts[1] + ".",
		"an HMAC with its jwk":   hmacProof(t, parts[1]),
		"a private key in jwk":   privateJWKProof(t, key, parts[1]),
		"the signature cut off":  parts[0] + "." + parts[1] + ".",
		"the payload of another": parts[0] + "." + b64(`{"jti":"x","htm":"GET","htu":"`+s.Issuer+`/userinfo","iat":1}`) + "." + parts[2],
	} {
		refused(t, what, userinfo(t, s, "DPoP "+tok.AccessToken, proof), "invalid_dpop_proof")
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signPayload signs the base64url payload with header fields added to
// typ dpop+jwt, under key k and algorithm alg.
func signPayload(t *testing.T, alg jose.SignatureAlgorithm, k any, payload string, header map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("dpop+jwt")
	for h, v := range header {
		opts = opts.WithHeader(h, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hmacProof "signs" payload with HS256 under a key the attacker chose and
// put in the header, as a symmetric jwk.
func hmacProof(t *testing.T, payload string) string {
	secret := []byte("attacker-chosen-secret-0123456789")
	return signPayload(t, jose.HS256, secret, payload, map[jose.HeaderKey]any{"jwk": map[string]string{"kty": "oct", "k": b64(string(secret))}})
}

// privateJWKProof signs payload with key, its private half in the header.
func privateJWKProof(t *testing.T, key *e2e.DPoPKey, payload string) string {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: key.Key}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var jwk map[string]any
	if err := json.Unmarshal(b, &jwk); err != nil || jwk["d"] == nil {
		t.Fatalf("private jwk %s", b)
	}
	return signPayload(t, jose.ES256, key.Key, payload, map[jose.HeaderKey]any{"jwk": jwk})
}

// TestAttackReplayAcrossRestart: an attacker who captured a request to
// userinfo (a DPoP proof) and a client's token request (its assertion)
// waits for the server to restart, which forgets the single uses it kept
// in memory (bbolt: provider/replay.go), and replays both. Refused: the
// new process refuses whatever is dated at or before the last second the
// old one took in memory. Fresh ones, made after, work.
func TestAttackReplayAcrossRestart(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	key := e2e.NewDPoPKey(t)
	tok := boundTokens(t, s, key)
	partner := e2e.NewPartnerKey(t, "batch-1")
	s.CLI(t, false, "client", "add", "--id", "batch", "--grant-type", "client_credentials", "--scope", "openid",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", partner.JWKS)
	proof := key.Proof(t, http.MethodGet, s.Issuer+"/userinfo", tok.AccessToken)
	assertion := partner.Assertion(t, s, "batch")
	grant := url.Values{"grant_type": {"client_credentials"}}
	if w := userinfo(t, s, "DPoP "+tok.AccessToken, proof); w.Status != http.StatusOK {
		t.Fatalf("the proof's first use: %d %s", w.Status, w.Body)
	}
	if w := e2e.PostForm(t, s, "/oauth/token", e2e.AssertionForm(grant, assertion)); w.Status != http.StatusOK {
		t.Fatalf("the assertion's first use: %d %s", w.Status, w.Body)
	}

	s.Stop(t)
	u, _ := url.Parse(s.Issuer)
	port, _ := strconv.Atoi(u.Port())
	s = e2e.Start(t, e2e.Options{Dir: s.Dir, Port: port})
	refused(t, "the proof replayed after the restart", userinfo(t, s, "DPoP "+tok.AccessToken, proof), "invalid_dpop_proof")
	if w := e2e.PostForm(t, s, "/oauth/token", e2e.AssertionForm(grant, assertion)); w.Status != http.StatusUnauthorized {
		t.Errorf("the assertion replayed after the restart: %d %s", w.Status, w.Body)
	}

	// Credentials dated in a later second than the old process's last.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if w := key.Get(t, s, "/userinfo", tok.AccessToken); w.Status != http.StatusOK {
		t.Errorf("a fresh proof after the restart: %d %s", w.Status, w.Body)
	}
	if w := e2e.PostForm(t, s, "/oauth/token", e2e.AssertionForm(grant, partner.Assertion(t, s, "batch"))); w.Status != http.StatusOK {
		t.Errorf("a fresh assertion after the restart: %d %s", w.Status, w.Body)
	}
}
