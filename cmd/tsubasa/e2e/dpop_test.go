package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// DPoP (RFC 9449) against the real server. The relying party is
// golang.org/x/oauth2 for the code flow and the refresh, with an HTTP
// client whose transport adds a fresh proof to each of its requests
// (dpop.go: Transport); the resource requests (userinfo, the telephone
// API) are written from the RFC, as no Go client library sends them.

// TestDPoPPublicClient: an app (a public client) logs a member in and
// exchanges the code with a proof: its access token is DPoP-bound (token
// type DPoP), works at userinfo only with a proof by its key, and its
// refresh token is bound to the key too (RFC 9449 §5), so the refresh
// works with that key and no other.
func TestDPoPPublicClient(t *testing.T) {
	s := StartWithMember(t, Options{})
	key := NewDPoPKey(t)
	rp := NewRP(t, s, "spa", "", "openid", "profile", "offline_access")
	f := NewFlow()
	cb := Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass)
	tok, idt, err := rp.Exchange(DPoPContext(t, key), f, cb)
	if err != nil {
		t.Fatalf("code exchange with a proof: %v", err)
	}
	if tok.TokenType != "DPoP" || tok.RefreshToken == "" {
		t.Fatalf("token_type %q, refresh %q: want a DPoP-bound token and a refresh token", tok.TokenType, tok.RefreshToken)
	}

	w := key.Get(t, s, "/userinfo", tok.AccessToken)
	CheckWire(t, "userinfo with DPoP", w, false)
	if w.Status != http.StatusOK || w.JSON(t)["sub"] != idt.Subject {
		t.Fatalf("userinfo with a proof: %d %s", w.Status, w.Body)
	}
	bearer := get(t, s, "/userinfo", "Bearer "+tok.AccessToken)
	CheckWire(t, "a DPoP token as Bearer", bearer, false)
	if bearer.Status != http.StatusUnauthorized || bearer.JSON(t)["error"] != "invalid_token" ||
		!strings.Contains(strings.Join(bearer.Header.Values("WWW-Authenticate"), " "), "DPoP") {
		t.Errorf("a DPoP-bound token as a Bearer token: %d %v %s", bearer.Status, bearer.Header, bearer.Body)
	}

	next, err := rp.OAuth.TokenSource(DPoPContext(t, key), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || next.TokenType != "DPoP" || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh with the same key: %v (type %q, rotated %v)", err, next.TokenType, next.RefreshToken != tok.RefreshToken)
	}
	_, err = rp.OAuth.TokenSource(DPoPContext(t, NewDPoPKey(t)), &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
	if !IsOAuthError(err, "invalid_dpop_proof") {
		t.Errorf("refresh with another key: %v, want invalid_dpop_proof", err)
	}
}

// TestDPoPBoundClient: a confidential client registered with
// dpop_bound_access_tokens must prove a key at every token request; its
// token's introspection names the key (cnf.jkt) and the DPoP type.
func TestDPoPBoundClient(t *testing.T) {
	s := Start(t, Options{})
	out := s.CLI(t, false, "client", "add", "--id", "miles-batch", "--grant-type", "client_credentials",
		"--scope", "openid", "--dpop-bound-access-tokens")
	m := cliSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"miles-batch"}, "client_secret": {m[1]}}
	w := PostForm(t, s, "/oauth/token", form)
	CheckWire(t, "token without a proof", w, false)
	if w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof" {
		t.Fatalf("a token request without a proof: %d %s", w.Status, w.Body)
	}
	key := NewDPoPKey(t)
	w = key.PostFormDPoP(t, s, "/oauth/token", form)
	if w.Status != http.StatusOK || w.JSON(t)["token_type"] != "DPoP" {
		t.Fatalf("a token request with a proof: %d %s", w.Status, w.Body)
	}
	access, _ := w.JSON(t)["access_token"].(string)
	w = PostForm(t, s, "/oauth/introspect", url.Values{"token": {access}, "client_id": {"miles-batch"}, "client_secret": {m[1]}})
	var in struct {
		Active    bool              `json:"active"`
		TokenType string            `json:"token_type"`
		CNF       map[string]string `json:"cnf"`
	}
	if err := json.Unmarshal(w.Body, &in); err != nil || !in.Active || in.TokenType != "DPoP" || in.CNF["jkt"] != key.JKT {
		t.Errorf("introspection: %s, want active, token_type DPoP, cnf.jkt %s", w.Body, key.JKT)
	}
}

// TestDPoPTelephoneAPI: the call centre's API takes a DPoP-bound token
// with its proof, and refuses it as a Bearer token.
func TestDPoPTelephoneAPI(t *testing.T) {
	s := StartWithMember(t, Options{})
	key := NewDPoPKey(t)
	w := key.PostFormDPoP(t, s, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"telephone"},
		"client_id": {"backend"}, "client_secret": {"backend-secret-0123456789"}})
	access, _ := w.JSON(t)["access_token"].(string)
	if w.Status != http.StatusOK || access == "" {
		t.Fatalf("token: %d %s", w.Status, w.Body)
	}
	body := `{"member_number":"` + MemberNumber + `","pin":"000000"}`
	call := func() *http.Request {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/api/telephone/verify", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	w = key.Do(t, call, access)
	if w.Status != http.StatusOK || w.JSON(t)["result"] == nil {
		t.Fatalf("telephone API with DPoP: %d %s", w.Status, w.Body)
	}
	if r := PostTelephone(t, s, access, body); r.Status != http.StatusUnauthorized {
		t.Errorf("telephone API with the bound token as Bearer: %d %s", r.Status, r.Description)
	}
}

// TestDPoPServerNonce: with dpop.require_nonce every proof must carry a
// nonce the server gave; the first request is answered use_dpop_nonce
// with one in DPoP-Nonce, and the client's retry with it succeeds (RFC
// 9449 §8, §9), at the token endpoint and at userinfo.
func TestDPoPServerNonce(t *testing.T) {
	s := StartWithMember(t, Options{Extra: "dpop:\n  require_nonce: true\n  nonce_ttl: 1m\n"})
	key := NewDPoPKey(t)
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	f := NewFlow()
	cb := Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "code_verifier": {f.Verifier},
		"redirect_uri": {s.Issuer + "/rp/callback"}, "client_id": {"web"}, "client_secret": {"web-secret-0123456789"}}
	first := WireDo(t, func() *http.Request {
		req := NewFormRequest(t.Context(), s.Issuer+"/oauth/token", form.Encode())
		req.Header.Set("DPoP", key.Proof(t, http.MethodPost, s.Issuer+"/oauth/token", ""))
		return req
	}())
	if first.Status != http.StatusBadRequest || first.JSON(t)["error"] != "use_dpop_nonce" || first.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("a proof without a nonce: %d %v %s", first.Status, first.Header, first.Body)
	}
	key.remember(first)
	w := key.PostFormDPoP(t, s, "/oauth/token", form)
	if w.Status != http.StatusOK || w.JSON(t)["token_type"] != "DPoP" {
		t.Fatalf("the retry with the nonce: %d %s", w.Status, w.Body)
	}
	access, _ := w.JSON(t)["access_token"].(string)
	if w := key.Get(t, s, "/userinfo", access); w.Status != http.StatusOK || w.Header.Get("DPoP-Nonce") == "" {
		t.Errorf("userinfo with the nonce: %d %v %s", w.Status, w.Header, w.Body)
	}
}
