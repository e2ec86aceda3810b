package e2e

// The client side of a FAPI 2.0 partner, for the e2e, attack and
// conformance suites.

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// FAPI2Partner is a partner held to the FAPI 2.0 Security Profile: its
// private_key_jwt key, its DPoP key, and a relying party (go-oidc and
// x/oauth2) whose HTTP client signs a DPoP proof for every request.
type FAPI2Partner struct {
	ID   string
	Auth PartnerKey
	DPoP *DPoPKey
	RP   *RP
}

// AddFAPI2Partner registers client id with profile fapi2 and its key
// inline, through the CLI.
func AddFAPI2Partner(t *testing.T, s *Server, id string) *FAPI2Partner {
	t.Helper()
	p := &FAPI2Partner{ID: id, Auth: NewPartnerKey(t, id+"-auth"), DPoP: NewDPoPKey(t)}
	s.CLI(t, false, "client", "add", "--id", id, "--name", "FAPI partner", "--redirect-uri", s.Issuer+"/rp/callback",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", p.Auth.JWKS, "--profile", "fapi2")
	p.RP = NewRP(t, s, id, "", "openid", "profile", "offline_access")
	p.RP.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	p.RP.Verifier = p.RP.Provider.Verifier(&oidc.Config{ClientID: id, SupportedSigningAlgs: []string{"ES256"}})
	return p
}

// Push pushes f's request with an assertion and a DPoP proof (which binds
// the code to the DPoP key) and returns the request_uri.
func (p *FAPI2Partner) Push(t *testing.T, s *Server, f Flow, extra url.Values) string {
	t.Helper()
	params := AuthParams(s, p.ID, f, "openid profile offline_access")
	for k, v := range extra {
		params[k] = v
	}
	w := p.DPoP.PostFormDPoP(t, s, "/oauth/par", AssertionForm(params, p.Auth.Assertion(t, s, p.ID)))
	uri, _ := w.JSON(t)["request_uri"].(string)
	if w.Status != http.StatusCreated || uri == "" {
		t.Fatalf("push: %d %s", w.Status, w.Body)
	}
	return uri
}

// AuthorizeURL is what the browser is sent to for request_uri.
func (p *FAPI2Partner) AuthorizeURL(s *Server, uri string) string {
	return s.Issuer + "/authorize?" + url.Values{"client_id": {p.ID}, "request_uri": {uri}}.Encode()
}

// Exchange trades the callback's code with an assertion and a proof.
func (p *FAPI2Partner) Exchange(t *testing.T, s *Server, f Flow, cb *url.URL) (*oauth2.Token, *oidc.IDToken, error) {
	t.Helper()
	if cb.Query().Get("iss") != s.Issuer {
		t.Errorf("authorization response iss %q (RFC 9207)", cb.Query().Get("iss"))
	}
	ctx := DPoPContext(t, p.DPoP)
	tok, err := p.RP.OAuth.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(f.Verifier),
		oauth2.SetAuthURLParam("client_assertion_type", AssertionType),
		oauth2.SetAuthURLParam("client_assertion", p.Auth.Assertion(t, s, p.ID)))
	if err != nil {
		return nil, nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.RP.Verifier.Verify(t.Context(), raw)
	return tok, idt, err
}

// Refresh redeems refresh token rt with an assertion and a proof.
func (p *FAPI2Partner) Refresh(t *testing.T, s *Server, rt string) Wire {
	t.Helper()
	return p.DPoP.PostFormDPoP(t, s, "/oauth/token", AssertionForm(url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {rt}}, p.Auth.Assertion(t, s, p.ID)))
}
