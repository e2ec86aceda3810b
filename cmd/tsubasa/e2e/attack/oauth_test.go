package attack

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on the OAuth surface, each as a relying party or a browser an
// attacker controls would mount it.

// TestAttackOpenRedirect: no variation of a registered redirect_uri or
// post_logout_redirect_uri is followed; the browser gets an error.
func TestAttackOpenRedirect(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	host := strings.TrimPrefix(s.Issuer, "http://")
	registered := s.Issuer + "/rp/callback"
	for name, uri := range map[string]string{
		"other host":         "https://evil.example/rp/callback",
		"other port":         "http://127.0.0.1:1/rp/callback",
		"same host, path":    s.Issuer + "/rp/other",
		"extra query":        registered + "?next=https://evil.example/",
		"trailing slash":     registered + "/",
		"fragment":           registered + "#x",
		"encoded slash":      s.Issuer + "/rp%2Fcallback",
		"double encoded":     url.QueryEscape(registered),
		"dot segments":       s.Issuer + "/rp/x/../callback",
		"userinfo before":    "http://" + host + "@evil.example/rp/callback",
		"userinfo after":     "http://evil.example@" + host + "/rp/callback",
		"uppercase scheme":   "HTTP://" + host + "/rp/callback",
		"scheme-relative":    "//evil.example/rp/callback",
		"backslash":          "http://" + host + "\\@evil.example/rp/callback",
		"javascript":         "javascript:alert(1)//" + host + "/rp/callback",
		"registered, spaced": " " + registered,
	} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {uri},
				"scope": {"openid"}, "state": {"st"}, "nonce": {"n"}}
			p := firstAnswer(t, s.Issuer+"/authorize?"+q.Encode())
			if p.Location != "" || p.Status != http.StatusBadRequest {
				t.Fatalf("redirect_uri %q: status %d, Location %q; want the error page", uri, p.Status, p.Location)
			}
			if !strings.Contains(p.Body, "<html") {
				t.Errorf("redirect_uri %q: not the error page: %q", uri, p.Body)
			}
		})
	}

	// post_logout_redirect_uri: only a registered one is ever followed.
	b := e2e.NewBrowser(t, s)
	tok := e2e.LoginRP(t, rp, b)
	hint, _ := tok.Extra("id_token").(string)
	for name, q := range map[string]url.Values{
		"with client_id":   {"client_id": {"web"}, "post_logout_redirect_uri": {"https://evil.example/bye"}},
		"with hint":        {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/bye"}},
		"registered+path":  {"id_token_hint": {hint}, "post_logout_redirect_uri": {s.Issuer + "/rp/bye/x"}},
		"no client at all": {"post_logout_redirect_uri": {"https://evil.example/bye"}},
		"other client's":   {"client_id": {"web-es256"}, "post_logout_redirect_uri": {s.Issuer + "/rp/bye"}},
	} {
		p := firstAnswer(t, s.Issuer+"/end_session?"+q.Encode())
		if strings.Contains(p.Location, "evil.example") || strings.HasPrefix(p.Location, s.Issuer+"/rp/") {
			t.Errorf("end_session %s: redirects to %q", name, p.Location)
		}
		if p.Status >= 500 {
			t.Errorf("end_session %s: status %d", name, p.Status)
		}
	}
	// The refused logouts ended nothing: the session still answers prompt=none.
	cb := e2e.Callback(t, b.Get(t, rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("code") == "" {
		t.Errorf("a refused end_session ended the session: %s", cb)
	}
}

// firstAnswer is the server's own answer to a GET, redirects not followed
// and no cookies sent.
func firstAnswer(t *testing.T, u string) e2e.Page {
	t.Helper()
	b := &e2e.Browser{Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return b.Get(t, u)
}

// TestAttackForgedIDTokenHint: an id_token_hint re-signed with alg=none, or
// with HS256 keyed by the provider's RSA public key (the key-confusion
// attack), is no hint: end_session refuses it and leaves the victim's
// session alone, and prompt=none with it logs nobody in.
func TestAttackForgedIDTokenHint(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	victim := e2e.NewBrowser(t, s)
	tok := e2e.LoginRP(t, rp, victim)
	real, _ := tok.Extra("id_token").(string)
	parts := strings.Split(real, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q", real)
	}
	kid, pemKey := rsaPublicKeyPEM(t, s)
	b64 := base64.RawURLEncoding.EncodeToString
	noneHeader := b64([]byte(`{"alg":"none","typ":"JWT"}`))
	hsHeader := b64([]byte(`{"alg":"HS256","typ":"JWT","kid":"` + kid + `"}`))
	mac := hmac.New(sha256.New, pemKey)
	mac.Write([]byte(hsHeader + "." + parts[1]))
	forged := map[string]string{
		"alg none":           noneHeader + "." + parts[1] + ".",
		"alg none, real sig": noneHeader + "." + parts[1] + "." + parts[2],
		"HS256 with RSA key": hsHeader + "." + parts[1] + "." + b64(mac.Sum(nil)),
	}
	for name, hint := range forged {
		attacker := e2e.NewBrowser(t, s)
		q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {s.Issuer + "/rp/bye"}, "state": {"x"}}
		p := firstAnswer(t, s.Issuer+"/end_session?"+q.Encode())
		if p.Location != "" || p.Status != http.StatusBadRequest {
			t.Errorf("%s: end_session answered %d to %q, want 400 and no redirect", name, p.Status, p.Location)
		}
		cb := e2e.Callback(t, attacker.Get(t, rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"),
			oauth2.SetAuthURLParam("id_token_hint", hint))))
		if cb.Query().Get("code") != "" || cb.Query().Get("error") == "" {
			t.Errorf("%s: prompt=none with a forged hint: %s", name, cb)
		}
	}
	// The victim is still logged in, and their tokens still work.
	cb := e2e.Callback(t, victim.Get(t, rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("code") == "" {
		t.Errorf("a forged hint ended the victim's session: %s", cb)
	}
	if _, err := e2e.Refresh(t, rp, tok.RefreshToken); err != nil {
		t.Errorf("a forged hint revoked the victim's tokens: %v", err)
	}
}

// rsaPublicKeyPEM returns the kid and PEM (PKIX) of the provider's RS256 key.
func rsaPublicKeyPEM(t *testing.T, s *e2e.Server) (string, []byte) {
	t.Helper()
	for _, k := range e2e.JWKS(t, s) {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			t.Fatalf("JWKS key %s: %v %v", k.Kid, err1, err2)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return k.Kid, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	t.Fatal("no RSA key in the JWKS")
	return "", nil
}

// TestAttackPKCEDowngradeAndCrossClientGrants: a code_verifier where the
// authorization request had no challenge, a missing verifier where it had
// one, and a code presented by another client are all refused, and each
// refused attempt burns the code; another client's refresh token is
// refused too. (op answers a missing or unexpected
// verifier with invalid_request, a missing parameter in RFC 6749's terms,
// and a wrong one with invalid_grant.)
func TestAttackPKCEDowngradeAndCrossClientGrants(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	other := e2e.NewRP(t, s, "web-es256", "es-secret-0123456789")
	b := e2e.NewBrowser(t, s)
	e2e.Login(t, b, rp.AuthURL(e2e.NewFlow()), e2e.MemberNumber, e2e.MemberPass) // SSO from here on
	// One request per exchange: x/oauth2's auto-detection would retry a
	// refused exchange with the other client authentication style, and the
	// retry meets an already burnt code.
	rp.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	other.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInHeader

	exchange := func(cfg *oauth2.Config, code string, opts ...oauth2.AuthCodeOption) error {
		_, err := cfg.Exchange(t.Context(), code, opts...)
		return err
	}
	refused := func(err error) bool {
		return e2e.IsOAuthError(err, "invalid_grant") || e2e.IsOAuthError(err, "invalid_request")
	}

	// No challenge in the request, a verifier at the token endpoint.
	f := e2e.NewFlow()
	cb := e2e.Callback(t, b.Get(t, rp.OAuth.AuthCodeURL(f.State, oauth2.SetAuthURLParam("nonce", f.Nonce))))
	code := cb.Query().Get("code")
	if err := exchange(&rp.OAuth, code, oauth2.VerifierOption(f.Verifier)); !refused(err) {
		t.Errorf("verifier without a challenge: %v, want invalid_grant or invalid_request", err)
	}
	if err := exchange(&rp.OAuth, code); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("the code after a refused exchange: %v, want invalid_grant", err)
	}

	// An S256 challenge in the request, no verifier at the token endpoint.
	f = e2e.NewFlow()
	code = e2e.Callback(t, b.Get(t, rp.AuthURL(f))).Query().Get("code")
	if err := exchange(&rp.OAuth, code); !refused(err) {
		t.Errorf("challenge without a verifier: %v, want invalid_grant or invalid_request", err)
	}
	if err := exchange(&rp.OAuth, code, oauth2.VerifierOption(f.Verifier)); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("the code after an exchange without its verifier: %v, want invalid_grant", err)
	}

	// Another client presents the code (with the right verifier).
	f = e2e.NewFlow()
	code = e2e.Callback(t, b.Get(t, rp.AuthURL(f))).Query().Get("code")
	other.OAuth.RedirectURL = rp.OAuth.RedirectURL
	if err := exchange(&other.OAuth, code, oauth2.VerifierOption(f.Verifier)); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("another client's code: %v, want invalid_grant", err)
	}
	if err := exchange(&rp.OAuth, code, oauth2.VerifierOption(f.Verifier)); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("the code after another client presented it: %v, want invalid_grant", err)
	}

	// Another client presents a refresh token.
	f = e2e.NewFlow()
	rp.OAuth.Scopes = append(rp.OAuth.Scopes, "offline_access")
	tok, _, err := rp.Exchange(t.Context(), f, e2e.Callback(t, b.Get(t, rp.AuthURL(f))))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}
	if _, err := e2e.Refresh(t, other, tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("another client's refresh token: %v, want invalid_grant", err)
	}
}
