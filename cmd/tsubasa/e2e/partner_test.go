package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Partner apps (README "Partner apps (FAPI 2.0)"): a partner that pushes
// its authorization requests (RFC 9126), authenticates with its key
// (private_key_jwt) published at a jwks_uri, and checks iss in the
// authorization response (RFC 9207); its tokens come from the code
// exchange of x/oauth2, verified by go-oidc, with the assertion as the
// extra parameters x/oauth2 sends with a client that has no secret.

// partnerOutbound lets the provider fetch a jwks_uri on loopback, where
// the tests serve it.
const partnerOutbound = "outbound:\n  allow_private_networks: true\n"

// newPartnerRP is a go-oidc and x/oauth2 relying party for a client that
// authenticates by assertion: no secret, so x/oauth2 sends client_id in
// the form and the assertion goes with it.
func newPartnerRP(t *testing.T, s *Server, clientID string) *RP {
	t.Helper()
	rp := NewRP(t, s, clientID, "")
	rp.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return rp
}

// exchangeWithAssertion is rp.Exchange with the client's assertion.
func exchangeWithAssertion(t *testing.T, s *Server, rp *RP, key PartnerKey, f Flow, cb *url.URL) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	q := cb.Query()
	if q.Get("iss") != s.Issuer {
		t.Errorf("authorization response iss = %q, want %q (RFC 9207)", q.Get("iss"), s.Issuer)
	}
	if q.Get("state") != f.State || q.Get("code") == "" {
		t.Fatalf("authorization response %s", cb)
	}
	tok, err := rp.OAuth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(f.Verifier),
		oauth2.SetAuthURLParam("client_assertion_type", AssertionType),
		oauth2.SetAuthURLParam("client_assertion", key.Assertion(t, s, rp.OAuth.ClientID)))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(t.Context(), raw)
	if err != nil || idt.Nonce != f.Nonce {
		t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
	}
	return tok, idt
}

// loginAt logs the member in from the authorization URL u.
func loginAt(t *testing.T, b *Browser, u string) *url.URL {
	t.Helper()
	return Login(t, b, u, MemberNumber, MemberPass)
}

func TestPartnerPushedRequestWithPrivateKeyJWT(t *testing.T) {
	s := StartWithMember(t, Options{Extra: partnerOutbound})
	key := NewPartnerKey(t, "miles-2026")
	jwks := ServeJWKS(t, key.JWKS)
	s.CLI(t, false, "client", "add", "--id", "miles", "--name", "Miles Partner", "--redirect-uri", s.Issuer+"/rp/callback",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", jwks.URL, "--require-pushed-authorization-requests")
	rp := newPartnerRP(t, s, "miles")

	// A request straight to /authorize is refused: this client pushes.
	f := NewFlow()
	cb := Callback(t, NewBrowser(t, s).Get(t, s.Issuer+"/authorize?"+AuthParams(s, "miles", f, "openid profile").Encode()))
	if cb.Query().Get("error") != "invalid_request" || cb.Query().Get("iss") != s.Issuer {
		t.Errorf("an unpushed request: %s, want invalid_request with iss", cb)
	}

	uri := key.Push(t, s, "miles", AuthParams(s, "miles", f, "openid profile offline_access"))
	b := NewBrowser(t, s)
	tok, idt := exchangeWithAssertion(t, s, rp, key, f,
		loginAt(t, b, s.Issuer+"/authorize?"+url.Values{"client_id": {"miles"}, "request_uri": {uri}}.Encode()))
	if idt.Subject == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens: sub %q, refresh %q", idt.Subject, tok.RefreshToken)
	}
	if jwks.Fetches.Load() == 0 {
		t.Error("the jwks_uri was never fetched")
	}

	// Refresh, introspection and revocation, each with a fresh assertion.
	w := PostForm(t, s, "/oauth/token", AssertionForm(url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok.RefreshToken}}, key.Assertion(t, s, "miles")))
	CheckWire(t, "refresh", w, false)
	if w.Status != http.StatusOK || w.JSON(t)["access_token"] == nil {
		t.Fatalf("refresh: %d %s", w.Status, w.Body)
	}
	access, _ := w.JSON(t)["access_token"].(string)
	w = PostForm(t, s, "/oauth/introspect", AssertionForm(url.Values{"token": {access}}, key.Assertion(t, s, "miles")))
	if w.Status != http.StatusOK || w.JSON(t)["active"] != true {
		t.Errorf("introspection: %d %s", w.Status, w.Body)
	}
	w = PostForm(t, s, "/revoke", AssertionForm(url.Values{"token": {access}}, key.Assertion(t, s, "miles")))
	if w.Status != http.StatusOK {
		t.Errorf("revocation: %d %s", w.Status, w.Body)
	}
	w = PostForm(t, s, "/oauth/introspect", AssertionForm(url.Values{"token": {access}}, key.Assertion(t, s, "miles")))
	if w.JSON(t)["active"] != false {
		t.Errorf("introspection after revocation: %s", w.Body)
	}
}

func TestPartnerRequestObjectByValue(t *testing.T) {
	s := StartWithMember(t, Options{})
	key := NewPartnerKey(t, "shop-1")
	s.CLI(t, false, "client", "add", "--id", "shop", "--redirect-uri", s.Issuer+"/rp/callback",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", key.JWKS)
	rp := newPartnerRP(t, s, "shop")
	f := NewFlow()
	claims := map[string]any{"iss": "shop", "aud": s.Issuer}
	for k, v := range AuthParams(s, "shop", f, "openid email") {
		claims[k] = v[0]
	}
	for k, v := range AssertionClaims("shop", s.Issuer) {
		if k == "exp" || k == "iat" {
			claims[k] = v
		}
	}
	object := key.Sign(t, claims, "oauth-authz-req+jwt")
	// Only client_id and the object travel in the browser's URL.
	u := s.Issuer + "/authorize?" + url.Values{"client_id": {"shop"}, "request": {object}}.Encode()
	_, idt := exchangeWithAssertion(t, s, rp, key, f, loginAt(t, NewBrowser(t, s), u))
	if !strings.Contains(idt.Issuer, s.Issuer) {
		t.Errorf("ID token issuer %q", idt.Issuer)
	}
}

func TestPartnerClientCredentialsPrivateKeyJWT(t *testing.T) {
	s := Start(t, Options{})
	key := NewPartnerKey(t, "batch-1")
	s.CLI(t, false, "client", "add", "--id", "batch", "--grant-type", "client_credentials", "--scope", "openid",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", key.JWKS)
	w := PostForm(t, s, "/oauth/token", AssertionForm(url.Values{"grant_type": {"client_credentials"}}, key.Assertion(t, s, "batch")))
	CheckWire(t, "client credentials", w, false)
	if w.Status != http.StatusOK || w.JSON(t)["token_type"] != "Bearer" {
		t.Fatalf("client credentials: %d %s", w.Status, w.Body)
	}
	// The secret methods are not this client's.
	req := NewFormRequest(t.Context(), s.Issuer+"/oauth/token", "grant_type=client_credentials")
	req.SetBasicAuth("batch", "anything")
	if w := WireDo(t, req); w.Status != http.StatusUnauthorized {
		t.Errorf("a private_key_jwt client by Basic: %d %s", w.Status, w.Body)
	}
}

// TestWirePushedAuthorizationRequests: the pushed authorization request
// endpoint answers as the other client endpoints do: POST with a form body
// only, each parameter once, JSON errors that are never cached, a Basic
// challenge on a failed authentication, 413 for a body over the limit.
func TestWirePushedAuthorizationRequests(t *testing.T) {
	s := Start(t, Options{})
	f := NewFlow()
	params := AuthParams(s, "spa", f, "openid")
	ok := form(t, s, "/oauth/par", params, "", "")
	CheckWire(t, "push by a public client", ok, false)
	if ok.Status != http.StatusCreated || ok.JSON(t)["request_uri"] == nil {
		t.Fatalf("push by a public client: %d %s", ok.Status, ok.Body)
	}
	wantError(t, "GET", get(t, s, "/oauth/par?"+params.Encode(), ""), http.StatusMethodNotAllowed, "invalid_request")
	req := NewFormRequest(t.Context(), s.Issuer+"/oauth/par?client_id=spa", params.Encode())
	wantError(t, "parameters in the URL", WireDo(t, req), http.StatusBadRequest, "invalid_request")
	twice := AuthParams(s, "spa", f, "openid")
	twice.Add("redirect_uri", s.Issuer+"/rp/callback")
	wantError(t, "redirect_uri twice", form(t, s, "/oauth/par", twice, "", ""), http.StatusBadRequest, "invalid_request")
	wantError(t, "a wrong secret", form(t, s, "/oauth/par", AuthParams(s, "web", f, "openid"), "web", "wrong"),
		http.StatusUnauthorized, "invalid_client")
	big := NewFormRequest(t.Context(), s.Issuer+"/oauth/par", params.Encode()+"&pad="+strings.Repeat("x", 2<<20))
	wantError(t, "a 2 MiB body", WireDo(t, big), http.StatusRequestEntityTooLarge, "invalid_request")
	bad := NewFormRequest(t.Context(), s.Issuer+"/oauth/par", "client_id=spa&state=%zz")
	wantError(t, "a malformed form", WireDo(t, bad), http.StatusBadRequest, "invalid_request")
}
