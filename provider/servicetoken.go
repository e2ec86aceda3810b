package provider

import (
	"context"
	"errors"
	"slices"
	"strings"

	"tsubasa/storage"
)

// Service scopes open Tsubasa's own APIs to a client acting for itself
// (the call centre's PIN check, and the admin API's scopes, every one
// starting with adminScopePrefix): a token for them must come from the
// client_credentials grant, never from a member's login. Config validation
// and `client add` refuse such a scope on a client with authorization_code
// or public: true; for a client stored before that rule, member flows
// never grant the scope (authorize drops it) and ServiceToken refuses any
// token issued for a member, whatever its scopes.
var serviceScopes = []string{ScopeTelephone}

// adminScopePrefix starts every scope of the admin API (admin:members:read
// …): all of them are service scopes, the ones to come included.
const adminScopePrefix = "admin:"

// ErrMemberToken: the bearer token is valid but was issued for a member
// (authorization code or refresh), not to a client for itself with
// client_credentials, so a service API must not accept it.
var ErrMemberToken = errors.New("provider: access token issued for a member, not to the client itself")

// ServiceToken checks a bearer token for one of Tsubasa's service APIs:
// it must be a valid access token that a client obtained for itself with
// client_credentials (no member), carrying scope. The returned token's
// Scopes are those it was issued with that the client is still allowed:
// a scope taken from a client (its config changed) stops working at once,
// not when the token expires. Errors: ErrInvalidToken, ErrMemberToken
// (checked before the scope: no scope makes a member's token acceptable),
// ErrInsufficientScope.
func (p *Provider) ServiceToken(ctx context.Context, bearer, scope string) (storage.Token, error) {
	t, err := p.AccessToken(ctx, bearer, "")
	if err != nil {
		return storage.Token{}, err
	}
	return p.ServiceTokenOf(ctx, t, scope)
}

// ServiceTokenOf is ServiceToken for a token already checked (a DPoP-bound
// one with its proof, by ResourceToken).
func (p *Provider) ServiceTokenOf(ctx context.Context, t storage.Token, scope string) (storage.Token, error) {
	if t.MemberID != "" || t.Subject != t.ClientID {
		return t, ErrMemberToken
	}
	c, err := p.clients.get(ctx, t.ClientID)
	if err != nil {
		return storage.Token{}, ErrInvalidToken // removed since AccessToken looked
	}
	t.Scopes = slices.DeleteFunc(slices.Clone(t.Scopes), func(s string) bool { return !slices.Contains(c.Scopes, s) })
	if scope != "" && !slices.Contains(t.Scopes, scope) {
		return t, ErrInsufficientScope
	}
	return t, nil
}

// memberScope reports whether a member flow (authorization code, and the
// refresh tokens it yields) may grant scope.
func memberScope(scope string) bool {
	return !slices.Contains(serviceScopes, scope) && !strings.HasPrefix(scope, adminScopePrefix)
}

// warnServiceScopeClients logs each client, from the config or stored,
// that may ask for a service scope in member flows: one added before
// validation refused it. Such a request never gets the scope; the log
// tells the operator to re-add the client without it.
func (p *Provider) warnServiceScopeClients(ctx context.Context) {
	stored, err := p.store.ListClients(ctx)
	if err != nil {
		p.log.WarnContext(ctx, "clients not checked for service scopes", "err", err)
	}
	for _, c := range slices.Concat(p.opts.Clients, stored) {
		if !c.Public && !slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
			continue
		}
		for _, s := range c.Scopes {
			if !memberScope(s) {
				p.log.WarnContext(ctx, "client may ask for a service scope in member logins; it is never granted there: remove the client and add it again without the scope",
					"client_id", c.ID, "scope", s)
			}
		}
	}
}
