package provider

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// Grant types a client may be given.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Scopes Tsubasa knows besides the OpenID Connect standard ones.
const (
	ScopeMembership = "membership" // member_number claim
	ScopeTelephone  = "telephone"  // the call-centre PIN API
)

// client adapts a storage.Client to op.Client.
type client struct {
	c        storage.Client
	loginURL func(string) string
	idTTL    time.Duration
	dev      bool
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *client) LoginURL(id string) string        { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType {
	// Opaque, encrypted bearer tokens: no signature per token, revocable.
	return op.AccessTokenTypeBearer
}
func (c *client) IDTokenLifetime() time.Duration { return c.idTTL }
func (c *client) DevMode() bool                  { return c.dev }
func (c *client) ClockSkew() time.Duration       { return 0 }
func (c *client) IDTokenUserinfoClaimsAssertion() bool {
	// Contact details go to userinfo, not into the ID token, when an access
	// token is issued with it.
	return false
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(c.c.Scopes, scope) }

func (c *client) ApplicationType() op.ApplicationType {
	if !c.c.Public {
		return op.ApplicationTypeWeb
	}
	for _, u := range c.c.RedirectURIs {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") || isLoopbackURL(u) {
			return op.ApplicationTypeNative
		}
	}
	return op.ApplicationTypeUserAgent
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes are the response types (metadata.go) whose grant the
// client holds; op refuses the others with unauthorized_client.
func (c *client) ResponseTypes() []oidc.ResponseType {
	var out []oidc.ResponseType
	for _, t := range responseTypes {
		if slices.Contains(c.c.GrantTypes, t.grant) {
			out = append(out, t.value)
		}
	}
	return out
}

// GrantTypes are the client's grants that Tsubasa offers (metadata.go);
// the names are RFC 6749's, as op's are.
func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(c.c.GrantTypes))
	for _, g := range c.c.GrantTypes {
		if slices.Contains(grantTypes, g) {
			out = append(out, oidc.GrantType(g))
		}
	}
	return out
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// clientRegistry merges clients from the config file (immutable, in memory)
// with clients stored in the database, and caches both: the token endpoint
// looks a client up on every request.
type clientRegistry struct {
	static map[string]storage.Client
	store  storage.Clients
	ttl    time.Duration
	now    func() time.Time

	mu    sync.RWMutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c       storage.Client
	fetched time.Time
}

func newClientRegistry(static []storage.Client, store storage.Clients, now func() time.Time) (*clientRegistry, error) {
	r := &clientRegistry{static: map[string]storage.Client{}, store: store, ttl: 5 * time.Second, now: now, cache: map[string]cachedClient{}}
	for _, c := range static {
		if _, dup := r.static[c.ID]; dup {
			return nil, fmt.Errorf("provider: client %q configured twice", c.ID)
		}
		r.static[c.ID] = c
	}
	return r, nil
}

// get returns a client by id, from config first, then the database.
// Database clients are cached briefly so that a CLI change (through the
// running server) takes effect within seconds without a read per request.
func (r *clientRegistry) get(ctx context.Context, id string) (storage.Client, error) {
	if c, ok := r.static[id]; ok {
		return c, nil
	}
	now := r.now()
	r.mu.RLock()
	cc, ok := r.cache[id]
	r.mu.RUnlock()
	if ok && now.Sub(cc.fetched) < r.ttl {
		return cc.c, nil
	}
	c, err := r.store.ClientByID(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			r.forget(id)
		}
		return storage.Client{}, err
	}
	r.mu.Lock()
	if len(r.cache) > 10000 {
		clear(r.cache)
	}
	r.cache[id] = cachedClient{c: c, fetched: now}
	r.mu.Unlock()
	return c, nil
}

func (r *clientRegistry) forget(id string) {
	r.mu.Lock()
	delete(r.cache, id)
	r.mu.Unlock()
}

// checkSecret compares the HMAC of secret with the stored hash in constant time.
func (p *Provider) checkSecret(c storage.Client, secret string) bool {
	if c.Public || len(c.SecretHash) == 0 || secret == "" {
		// Still spend the HMAC so a missing client costs the same.
		_ = p.secretHash(secret)
		return false
	}
	return hmac.Equal(p.secretHash(secret), c.SecretHash)
}
