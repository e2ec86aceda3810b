package attack

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on a client held to the FAPI 2.0 profile (clients[].profile
// fapi2), and on a code bound to a DPoP key (RFC 9449 §10). Each is a
// request the profile refuses and a plain client's settings would let
// through: an authorization request not pushed, one without PKCE, a
// token request without a proof, RS256 where FAPI 2.0 allows only ES256
// and PS256, a stolen code redeemed with another key.

// TestAttackFAPI2RequestNotPushed: someone (a phishing page, a tampered
// link) sends the member to /authorize with a FAPI client's parameters in
// the URL, where they can be changed. Refused at the redirect URI with
// iss, before any login page.
func TestAttackFAPI2RequestNotPushed(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	p := e2e.AddFAPI2Partner(t, s, "bank")
	q := e2e.AuthParams(s, p.ID, e2e.NewFlow(), "openid")
	cb := e2e.Callback(t, e2e.NewBrowser(t, s).Get(t, s.Issuer+"/authorize?"+q.Encode()))
	if cb.Query().Get("error") != "invalid_request" || cb.Query().Get("iss") != s.Issuer {
		t.Errorf("an unpushed request of a FAPI client: %s, want invalid_request with iss", cb)
	}
}

// TestAttackFAPI2PushedWithoutPKCE: a pushed request without a code
// challenge (so a stolen code would need nothing else) is refused, though
// the client is confidential.
func TestAttackFAPI2PushedWithoutPKCE(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	p := e2e.AddFAPI2Partner(t, s, "bank")
	params := e2e.AuthParams(s, p.ID, e2e.NewFlow(), "openid")
	params.Del("code_challenge")
	params.Del("code_challenge_method")
	w := p.DPoP.PostFormDPoP(t, s, "/oauth/par", e2e.AssertionForm(params, p.Auth.Assertion(t, s, p.ID)))
	if w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_request" {
		t.Errorf("a pushed request without PKCE: %d %s", w.Status, w.Body)
	}
}

// TestAttackFAPI2TokenWithoutDPoP: the FAPI client's code (stolen along
// with its assertion key, or the client misconfigured) is exchanged
// without a proof: refused, so no unbound token is ever issued to it.
func TestAttackFAPI2TokenWithoutDPoP(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	p := e2e.AddFAPI2Partner(t, s, "bank")
	f := e2e.NewFlow()
	uri := p.Auth.Push(t, s, p.ID, e2e.AuthParams(s, p.ID, f, "openid")) // pushed without a proof
	cb := e2e.Login(t, e2e.NewBrowser(t, s), p.AuthorizeURL(s, uri), e2e.MemberNumber, e2e.MemberPass)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {s.Issuer + "/rp/callback"}, "code_verifier": {f.Verifier}}
	w := e2e.PostForm(t, s, "/oauth/token", e2e.AssertionForm(form, p.Auth.Assertion(t, s, p.ID)))
	if w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("a FAPI code exchange without a proof: %d %s", w.Status, w.Body)
	}
}

// TestAttackFAPI2RS256: a FAPI client whose key set holds an RSA key
// signs its client assertion, and its DPoP proof, with RS256 (PKCS #1
// v1.5, which FAPI 2.0 rules out): both refused, though the signatures
// verify.
func TestAttackFAPI2RS256(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rk.PublicKey, KeyID: "rsa-1", Use: "sig"}}})
	s.CLI(t, false, "client", "add", "--id", "rsa-bank", "--grant-type", "client_credentials", "--scope", "openid",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", string(set), "--profile", "fapi2")
	sign := func(alg jose.SignatureAlgorithm) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: rk}, (&jose.SignerOptions{}).WithHeader("kid", "rsa-1"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Signed(signer).Claims(e2e.AssertionClaims("rsa-bank", s.Issuer)).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	key := e2e.NewDPoPKey(t)
	if w := key.PostFormDPoP(t, s, "/oauth/token", e2e.AssertionForm(form, sign(jose.RS256))); w.Status != http.StatusUnauthorized {
		t.Errorf("an RS256 assertion of a FAPI client: %d %s", w.Status, w.Body)
	}
	if w := key.PostFormDPoP(t, s, "/oauth/token", e2e.AssertionForm(form, sign(jose.PS256))); w.Status != http.StatusOK {
		t.Fatalf("a PS256 assertion of the same key: %d %s", w.Status, w.Body)
	}
	proof := rs256Proof(t, rk, s.Issuer+"/oauth/token")
	req := e2e.NewFormRequest(t.Context(), s.Issuer+"/oauth/token", e2e.AssertionForm(form, sign(jose.PS256)).Encode())
	req.Header.Set("DPoP", proof)
	if w := e2e.WireDo(t, req); w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("an RS256 DPoP proof of a FAPI client: %d %s", w.Status, w.Body)
	}
}

// rs256Proof is a sound DPoP proof for the token endpoint, signed RS256.
func rs256Proof(t *testing.T, k *rsa.PrivateKey, target string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(map[string]any{"jti": rand.Text(), "htm": "POST", "htu": target,
		"iat": time.Now().Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestAttackStolenCodeBoundToDPoPKey: an app pushes its request with a
// proof, which binds the code to its key (RFC 9449 §10.1). An attacker
// who steals the code and the PKCE verifier (from a log, a proxy)
// redeems them with a proof by their own key, or none: refused. Also
// refused: a pushed request whose dpop_jkt is not the proof's key.
func TestAttackStolenCodeBoundToDPoPKey(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	app := e2e.NewDPoPKey(t)
	f := e2e.NewFlow()
	w := app.PostFormDPoP(t, s, "/oauth/par", e2e.AuthParams(s, "spa", f, "openid"))
	uri, _ := w.JSON(t)["request_uri"].(string)
	if w.Status != http.StatusCreated {
		t.Fatalf("push with a proof: %d %s", w.Status, w.Body)
	}
	cb := e2e.Login(t, e2e.NewBrowser(t, s), s.Issuer+"/authorize?"+url.Values{"client_id": {"spa"}, "request_uri": {uri}}.Encode(),
		e2e.MemberNumber, e2e.MemberPass)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "client_id": {"spa"},
		"redirect_uri": {s.Issuer + "/rp/callback"}, "code_verifier": {f.Verifier}}
	if w := e2e.NewDPoPKey(t).PostFormDPoP(t, s, "/oauth/token", form); w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Errorf("the stolen code with the attacker's key: %d %s", w.Status, w.Body)
	}

	params := e2e.AuthParams(s, "spa", e2e.NewFlow(), "openid")
	params.Set("dpop_jkt", e2e.NewDPoPKey(t).JKT)
	if w := app.PostFormDPoP(t, s, "/oauth/par", params); w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_request" {
		t.Errorf("a pushed dpop_jkt that is not the proof's key: %d %s", w.Status, w.Body)
	}
}
