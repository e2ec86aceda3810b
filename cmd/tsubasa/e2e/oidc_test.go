package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

type idClaims struct {
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
	AuthTime int64    `json:"auth_time"`
	SID      string   `json:"sid"`
	Email    string   `json:"email"`
}

func TestDiscoveryAndKeys(t *testing.T) {
	s := Start(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	var meta struct {
		Issuer         string   `json:"issuer"`
		Algs           []string `json:"id_token_signing_alg_values_supported"`
		PKCE           []string `json:"code_challenge_methods_supported"`
		Introspection  string   `json:"introspection_endpoint"`
		Revocation     string   `json:"revocation_endpoint"`
		EndSession     string   `json:"end_session_endpoint"`
		RequestObjects bool     `json:"request_parameter_supported"`
	}
	if err := rp.Provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != s.Issuer {
		t.Errorf("issuer %q, want %q", meta.Issuer, s.Issuer)
	}
	for _, alg := range []string{"RS256", "ES256", "PS256"} {
		if !slices.Contains(meta.Algs, alg) {
			t.Errorf("id_token_signing_alg_values_supported %v lacks %s", meta.Algs, alg)
		}
	}
	if !slices.Equal(meta.PKCE, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v, want [S256]", meta.PKCE)
	}
	if meta.Introspection == "" || meta.Revocation == "" || meta.EndSession == "" {
		t.Errorf("missing endpoints in discovery: %+v", meta)
	}
	before := jwksKids(t, s)
	if len(before) != 3 {
		t.Fatalf("want one RS256, one ES256 and one PS256 key, got %v", before)
	}
	out := s.CLI(t, false, "keys", "rotate")
	if !strings.Contains(out, "RS256") {
		t.Errorf("keys rotate output lacks the new keys:\n%s", out)
	}
	after := jwksKids(t, s)
	if len(after) != 6 {
		t.Fatalf("after rotation the JWKS must hold new and retired keys, got %v", after)
	}
	for _, k := range before {
		if !slices.Contains(after, k) {
			t.Errorf("retired key %s dropped from JWKS before its tokens expired", k)
		}
	}
}

func jwksKids(t *testing.T, s *Server) []string {
	t.Helper()
	var kids []string
	for _, k := range JWKS(t, s) {
		if k.Kid == "" {
			t.Errorf("JWKS key without kid")
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestCodeFlowWithPKCE(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	f := NewFlow()
	cb := Login(t, b, rp.AuthURL(f), MemberNumber, MemberPass)
	tok, idt, err := rp.Exchange(t.Context(), f, cb)
	if err != nil {
		t.Fatal(err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != "urn:tsubasa:acr:pwd" || !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("acr/amr = %q/%v, want pwd", c.ACR, c.AMR)
	}
	if c.AuthTime == 0 || c.SID == "" {
		t.Errorf("auth_time %d and sid %q must be set", c.AuthTime, c.SID)
	}
	if c.Email != "" {
		t.Errorf("email leaked into the ID token: %q (it belongs to userinfo)", c.Email)
	}
	if alg := headerAlg(t, tok); alg != "RS256" {
		t.Errorf("default ID token alg %s, want RS256", alg)
	}
	if tok.RefreshToken == "" {
		t.Error("first-party client with the refresh grant got no refresh token")
	}
	ui, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	_ = ui.Claims(&info)
	if info["email"] != "hanako@example.com" || info["member_number"] != MemberNumber || ui.Subject != idt.Subject {
		t.Errorf("userinfo = %v", info)
	}
}

func headerAlg(t *testing.T, tok *oauth2.Token) string {
	raw, _ := tok.Extra("id_token").(string)
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct{ Alg string }
	_ = json.Unmarshal(h, &hdr)
	return hdr.Alg
}

func TestES256Client(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web-es256", "es-secret-0123456789")
	tok := LoginRP(t, rp, NewBrowser(t, s))
	if alg := headerAlg(t, tok); alg != "ES256" {
		t.Errorf("ID token alg %s, want ES256 as the client registered", alg)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	tok := LoginRP(t, rp, NewBrowser(t, s))
	first := tok.RefreshToken
	tok.Expiry = tok.Expiry.Add(-24 * 60 * 60 * 1e9) // force a refresh
	next, err := rp.OAuth.TokenSource(t.Context(), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.RefreshToken == "" || next.RefreshToken == first {
		t.Fatalf("refresh token not rotated")
	}
	// Replaying the rotated token is refused and revokes the family.
	if _, err := Refresh(t, rp, first); !IsOAuthError(err, "invalid_grant") {
		t.Fatalf("reuse of a rotated refresh token: %v, want invalid_grant", err)
	}
	if _, err := Refresh(t, rp, next.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Fatalf("after reuse the whole family must be revoked, got %v", err)
	}
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(next)); err == nil {
		t.Error("access token of a revoked family still works at userinfo")
	}
}

func TestCodeReplayRevokesTokens(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	f := NewFlow()
	cb := Login(t, b, rp.AuthURL(f), MemberNumber, MemberPass)
	tok, _, err := rp.Exchange(t.Context(), f, cb)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rp.Exchange(t.Context(), f, cb); !IsOAuthError(err, "invalid_grant") {
		t.Fatalf("second exchange of a code: %v, want invalid_grant", err)
	}
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("tokens minted from a replayed code must be revoked")
	}
	if _, err := Refresh(t, rp, tok.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("refresh token from a replayed code: %v, want invalid_grant", err)
	}
}

// TestCodeExchangeRace: a code is looked at first and claimed with its
// tokens in one commit. Concurrent exchanges of one code: exactly one gets
// tokens, and the replays revoke them. (A refused exchange uses the code up
// at once: TestAttackPKCEDowngradeAndCrossClientGrants.)
func TestCodeExchangeRace(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	b := NewBrowser(t, s)
	f := NewFlow()
	cb := Login(t, b, rp.AuthURL(f), MemberNumber, MemberPass)

	const n = 12
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []*oauth2.Token
		errs []error
	)
	for range n {
		wg.Go(func() {
			tok, _, err := rp.Exchange(t.Context(), f, cb)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won = append(won, tok)
			} else if !IsOAuthError(err, "invalid_grant") {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 || len(errs) != 0 {
		t.Fatalf("%d concurrent exchanges of one code: %d got tokens (want 1), other errors %v", n, len(won), errs)
	}
	if _, err := Refresh(t, rp, won[0].RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("the winner's refresh token after the replays: %v, want invalid_grant", err)
	}
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(won[0])); err == nil {
		t.Error("the winner's access token still works after the replays")
	}
}

func TestClientCredentialsIntrospectionRevocation(t *testing.T) {
	s := Start(t, Options{})
	p, err := oidc.NewProvider(t.Context(), s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Introspect string `json:"introspection_endpoint"`
		Revoke     string `json:"revocation_endpoint"`
	}
	_ = p.Claims(&meta)
	cc := clientcredentials.Config{ClientID: "backend", ClientSecret: "backend-secret-0123456789", TokenURL: p.Endpoint().TokenURL, Scopes: []string{"telephone"}}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if active := Introspect(t, meta.Introspect, "backend", "backend-secret-0123456789", tok.AccessToken); !active {
		t.Error("own token not active at introspection")
	}
	if active := Introspect(t, meta.Introspect, "web", "web-secret-0123456789", tok.AccessToken); active {
		t.Error("another client learned that the token is active")
	}
	bad := clientcredentials.Config{ClientID: "backend", ClientSecret: "wrong", TokenURL: p.Endpoint().TokenURL}
	if _, err := bad.Token(t.Context()); !IsOAuthError(err, "invalid_client") {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}
	resp := ClientPost(t, meta.Revoke, "backend", "backend-secret-0123456789", url.Values{"token": {tok.AccessToken}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation status %d", resp.StatusCode)
	}
	if Introspect(t, meta.Introspect, "backend", "backend-secret-0123456789", tok.AccessToken) {
		t.Error("revoked token still active")
	}
}
