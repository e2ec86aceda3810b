package provider

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestAdminScopesAreServiceScopes: a member's login is never granted an
// admin scope, not even by a client allowed one before validation refused
// it, and the start-up log names such a client.
func TestAdminScopesAreServiceScopes(t *testing.T) {
	for _, s := range []string{"admin:members:read", "admin:keys", "admin:anything-later"} {
		if memberScope(s) {
			t.Errorf("member flows may grant %s", s)
		}
	}
	e := newServiceEnv(t)
	req := &oidc.AuthRequest{ClientID: "legacy-app", RedirectURI: "https://app.example/cb", ResponseType: oidc.ResponseTypeCode,
		Scopes: oidc.SpaceDelimitedArray{"openid", "admin:members:read"}, CodeChallenge: strings.Repeat("a", 43),
		CodeChallengeMethod: oidc.CodeChallengeMethodS256}
	ar, err := (&opStorage{e.p}).CreateAuthRequest(t.Context(), req, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ar.GetScopes(); !slices.Equal(got, []string{"openid"}) {
		t.Errorf("scopes of a member login = %v, want [openid]", got)
	}
}

// TestServiceTokenDropsScopesTheClientLost: a token carries the scopes it
// was issued with, but ServiceToken honours only those the client still
// has, so a scope taken away works no more from the next request on.
func TestServiceTokenDropsScopesTheClientLost(t *testing.T) {
	e := newServiceEnv(t)
	now := time.Now().UTC()
	// Issued when the client still had admin:keys (the call centre's
	// client is allowed telephone only).
	tok, err := e.p.accessToken(t.Context(), &clientCredentialsRequest{clientID: "call-centre", scopes: []string{ScopeTelephone, "admin:keys"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.p.ServiceToken(t.Context(), e.bearer(t, tok), "admin:keys")
	if !errors.Is(err, ErrInsufficientScope) {
		t.Errorf("ServiceToken(admin:keys) = %v, want ErrInsufficientScope", err)
	}
	if slices.Contains(got.Scopes, "admin:keys") {
		t.Errorf("the token's scopes still name admin:keys: %v", got.Scopes)
	}
	if _, err := e.p.ServiceToken(t.Context(), e.bearer(t, tok), ScopeTelephone); err != nil {
		t.Errorf("ServiceToken(telephone) = %v", err)
	}
}
