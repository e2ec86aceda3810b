package attack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Stolen and replayed tokens: an attacker who got hold of a code, a
// refresh token or an access token (from a log, a proxy, a backup of the
// relying party, a device) and plays it again, first or after its owner,
// or alters it, or brings one from another deployment.

// bearerAnswer is what /userinfo answers token with: the status and the
// Bearer challenge.
func bearerAnswer(t *testing.T, s *e2e.Server, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := e2e.WireDo(t, req)
	return w.Status, w.Header.Get("WWW-Authenticate")
}

// introspector is the client that asks introspection about a token:
// introspection answers a token's own client only, and only confidential
// clients may ask; "" skips the question (a public app's tokens).
type introspector struct{ id, secret string }

var webIntrospects = introspector{"web", e2e.WebSecret}

// accessWorks checks that token opens /userinfo and is active at
// introspection, so that a later refusal means something.
func accessWorks(t *testing.T, s *e2e.Server, what, token string, by introspector) {
	t.Helper()
	if status, _ := bearerAnswer(t, s, token); status != http.StatusOK {
		t.Fatalf("%s: /userinfo answers %d before the attack, want 200", what, status)
	}
	if by.id != "" && !e2e.Introspect(t, s.Issuer+"/oauth/introspect", by.id, by.secret, token) {
		t.Fatalf("%s: introspection calls the token inactive before the attack", what)
	}
}

// accessRefused checks that /userinfo refuses token as RFC 6750 §3.1 says
// (401 with error="invalid_token" in the Bearer challenge) and that
// introspection calls it inactive.
func accessRefused(t *testing.T, s *e2e.Server, what, token string, by introspector) {
	t.Helper()
	status, challenge := bearerAnswer(t, s, token)
	if status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer") || !strings.Contains(challenge, `error="invalid_token"`) {
		t.Errorf("%s at /userinfo: %d, WWW-Authenticate %q; want 401 Bearer error=\"invalid_token\"", what, status, challenge)
	}
	if by.id != "" && e2e.Introspect(t, s.Issuer+"/oauth/introspect", by.id, by.secret, token) {
		t.Errorf("%s: introspection calls it active", what)
	}
}

// refreshRefused checks that rt is refused at the token endpoint with
// invalid_grant.
func refreshRefused(t *testing.T, rp *e2e.RP, what, rt string) {
	t.Helper()
	if _, err := e2e.Refresh(t, rp, rt); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("%s: %v, want invalid_grant", what, err)
	}
}

// codeOf logs the member in through rp in b (SSO after the first time)
// and returns the flow and the code of the callback.
func codeOf(t *testing.T, rp *e2e.RP, b *e2e.Browser) (e2e.Flow, string) {
	t.Helper()
	f := e2e.NewFlow()
	cb := e2e.Callback(t, b.Get(t, rp.AuthURL(f)))
	if cb.Query().Get("code") == "" {
		t.Fatalf("no code in the callback %s", cb)
	}
	return f, cb.Query().Get("code")
}

// ssoTokens are rp's tokens for the member of b's SSO session.
func ssoTokens(t *testing.T, rp *e2e.RP, b *e2e.Browser) *oauth2.Token {
	t.Helper()
	f := e2e.NewFlow()
	tok, _ := e2e.MustExchange(t, rp, f, e2e.Callback(t, b.Get(t, rp.AuthURL(f))))
	return tok
}

// TokenReplay plays, against one server (and a second
// deployment for the last case):
//
//   - a code redeemed twice, in both orders: the relying party first and
//     the thief after, or the thief first and the relying party after.
//     The second redemption is refused and every token the first minted
//     dies (refresh invalid_grant, access token 401 at /userinfo and
//     inactive at introspection), so a thief who wins the race keeps
//     nothing once the relying party redeems its code;
//   - a public app's refresh token stolen from the device and used by the
//     thief first: when the app then uses the same (now rotated) token,
//     the whole family is revoked, the thief's newest refresh and access
//     tokens included;
//   - access tokens with a flipped character, truncated, extended, an ID
//     token or a refresh token presented as one, and a token sealed by
//     another deployment of Tsubasa (its own master secret): each is 401
//     invalid_token at /userinfo and inactive at introspection.
//
// The first-party client is confidential, so the thief of its codes is
// someone who also holds its secret (a compromised relying party): what
// is checked is that a code is good for exactly one redemption whoever
// makes it.
func TokenReplay(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", e2e.WebSecret)
	// One request per exchange: x/oauth2's auto-detection would retry a
	// refused exchange with the other client authentication style.
	rp.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	b := e2e.NewBrowser(t, s)
	e2e.LoginRP(t, rp, b) // the member's SSO session: codes from here on come at once

	t.Run("code replayed after the relying party redeemed it", func(t *testing.T) {
		f, code := codeOf(t, rp, b)
		tok, err := rp.OAuth.Exchange(t.Context(), code, oauth2.VerifierOption(f.Verifier))
		if err != nil {
			t.Fatalf("the relying party's exchange: %v", err)
		}
		accessWorks(t, s, "the relying party's access token", tok.AccessToken, webIntrospects)
		if _, err := rp.OAuth.Exchange(t.Context(), code, oauth2.VerifierOption(f.Verifier)); !e2e.IsOAuthError(err, "invalid_grant") {
			t.Fatalf("the replayed code: %v, want invalid_grant", err)
		}
		s.Settle()
		accessRefused(t, s, "the access token of a replayed code", tok.AccessToken, webIntrospects)
		refreshRefused(t, rp, "the refresh token of a replayed code", tok.RefreshToken)
	})

	t.Run("stolen code redeemed first by the thief", func(t *testing.T) {
		f, code := codeOf(t, rp, b)
		stolen, err := rp.OAuth.Exchange(t.Context(), code, oauth2.VerifierOption(f.Verifier))
		if err != nil {
			t.Fatalf("the thief's exchange: %v", err)
		}
		accessWorks(t, s, "the thief's access token", stolen.AccessToken, webIntrospects)
		if _, err := rp.OAuth.Exchange(t.Context(), code, oauth2.VerifierOption(f.Verifier)); !e2e.IsOAuthError(err, "invalid_grant") {
			t.Fatalf("the relying party's exchange after the thief's: %v, want invalid_grant", err)
		}
		s.Settle()
		accessRefused(t, s, "the thief's access token", stolen.AccessToken, webIntrospects)
		refreshRefused(t, rp, "the thief's refresh token", stolen.RefreshToken)
	})

	t.Run("stolen refresh token used first by the thief", func(t *testing.T) {
		app := e2e.NewRP(t, s, "spa", "")
		app.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		tok := ssoTokens(t, app, b)
		if tok.RefreshToken == "" {
			t.Fatal("the public app got no refresh token")
		}
		// The thief rotates the stolen token: a new refresh token and a new
		// access token, both working.
		thief, err := e2e.Refresh(t, app, tok.RefreshToken)
		if err != nil || thief.RefreshToken == "" || thief.RefreshToken == tok.RefreshToken {
			t.Fatalf("the thief's refresh: %v (new refresh token %q)", err, thief.RefreshToken)
		}
		accessWorks(t, s, "the thief's rotated access token", thief.AccessToken, introspector{})
		// The app, unaware, uses the token it holds: a replay of a rotated
		// token, refused, and the family is revoked.
		refreshRefused(t, app, "the app's refresh token after the thief rotated it", tok.RefreshToken)
		refreshRefused(t, app, "the thief's newest refresh token after the replay", thief.RefreshToken)
		s.Settle()
		accessRefused(t, s, "the thief's newest access token after the replay", thief.AccessToken, introspector{})
		accessRefused(t, s, "the app's first access token after the replay", tok.AccessToken, introspector{})
	})

	t.Run("altered and foreign access tokens", func(t *testing.T) {
		tok := ssoTokens(t, rp, b)
		at := tok.AccessToken
		accessWorks(t, s, "the genuine access token", at, webIntrospects)
		idToken, _ := tok.Extra("id_token").(string)
		other := e2e.StartWithMember(t, e2e.Options{}) // another deployment: one server of its own
		foreign := e2e.LoginRP(t, e2e.NewRP(t, other, "web", e2e.WebSecret), e2e.NewBrowser(t, other))
		accessWorks(t, other, "the other deployment's access token at home", foreign.AccessToken, webIntrospects)
		for name, forged := range map[string]string{
			"a character flipped in the middle":  flipAt(at, len(at)/2),
			"a character flipped near the start": flipAt(at, 3),
			"truncated by 8 characters":          at[:len(at)-8],
			"extended":                           at + "AAAA",
			"the ID token":                       idToken,
			"sealed by another deployment":       foreign.AccessToken,
		} {
			accessRefused(t, s, name, forged, webIntrospects)
		}
		// A refresh token is no bearer token (introspection may describe
		// it to its client: it is a live token, RFC 7662 §2.1).
		accessRefused(t, s, "the refresh token as a bearer token", tok.RefreshToken, introspector{})
		// POSTed as a form, the other way userinfo takes a token.
		form := url.Values{"access_token": {flipAt(at, len(at)/2)}}
		if w := e2e.WireDo(t, e2e.NewFormRequest(t.Context(), s.Issuer+"/userinfo", form.Encode())); w.Status != http.StatusUnauthorized {
			t.Errorf("a flipped access token POSTed to /userinfo: %d, want 401", w.Status)
		}
		// The genuine token was not harmed by the attempts.
		accessWorks(t, s, "the genuine access token after the attempts", at, webIntrospects)
	})
}

// flipAt changes the character of token at i to another character of the
// base64url alphabet.
func flipAt(token string, i int) string {
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
