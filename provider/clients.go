package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
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

// ClientRegistry is the relying parties: the clients of the config file
// (immutable, in memory) and the clients stored in the database, and the
// only way the stored ones change (Create, Remove, RotateSecret), so that
// a change takes effect on the next request. The running provider has one
// (Provider.Clients); the CLI's direct mode, with no provider running,
// builds its own with NewClientRegistry.
//
// Stored clients are cached: the token endpoint looks a client up on every
// request. The cache is process memory, safe to lose: a change made
// through this registry drops the client from it at once; a change made by
// another process (another replica, the command line) drops it when the
// store says so (storage.ChangeNotifier), and the cache answers only while
// the store vouches that it has said everything (ChangesCurrent). An entry
// is read again after clientCacheTTL in any case, the bound for a store
// that cannot notify (see the package doc on replicas).
type ClientRegistry struct {
	static  map[string]storage.Client
	store   storage.Clients
	notes   storage.ChangeNotifier // nil when the store cannot notify
	hmacKey []byte
	ttl     time.Duration
	now     func() time.Time

	mu    sync.RWMutex
	cache map[string]cachedClient
	// gen counts the changes made through the registry: a lookup caches
	// what it read only if no change came between its read and its
	// caching, so an in-flight read never brings a removed client back.
	gen uint64
}

// clientCacheTTL is how long a stored client is used from memory before it
// is read again; maxCachedClients bounds the cache.
const (
	clientCacheTTL   = 5 * time.Second
	maxCachedClients = 10000
)

type cachedClient struct {
	c       storage.Client
	fetched time.Time
}

// ErrStaticClient: the client is defined in the config file, which would
// bring it back at the next start; it changes only there.
var ErrStaticClient = errors.New("provider: the client is defined in the config file")

// NewClientRegistry returns the registry of the config file's clients
// (secrets hashed with HashSecret) and the clients of store. hmacKey
// hashes the secrets it generates, as Options.HMACKey; now is the clock
// (time.Now when nil).
func NewClientRegistry(static []storage.Client, store storage.Clients, hmacKey []byte, now func() time.Time) (*ClientRegistry, error) {
	if now == nil {
		now = time.Now
	}
	r := &ClientRegistry{static: map[string]storage.Client{}, store: store, hmacKey: hmacKey,
		ttl: clientCacheTTL, now: now, cache: map[string]cachedClient{}}
	for _, c := range static {
		if _, dup := r.static[c.ID]; dup {
			return nil, fmt.Errorf("provider: client %q configured twice", c.ID)
		}
		r.static[c.ID] = c
	}
	if n, ok := store.(storage.ChangeNotifier); ok {
		r.notes = n
		// For the registry's life, which is the process's: the
		// subscription is never ended.
		n.OnChange(storage.ChangeClients, r.heard)
	}
	return r, nil
}

// heard drops a client another process changed ("": any of them).
func (r *ClientRegistry) heard(id string) {
	if id == "" {
		r.mu.Lock()
		r.gen++
		clear(r.cache)
		r.mu.Unlock()
		return
	}
	r.changed(id)
}

// cacheCurrent reports whether cached entries may answer: always without
// notifications (the TTL bounds them), and with them only while the store
// says every change committed elsewhere has reached heard.
func (r *ClientRegistry) cacheCurrent() bool {
	return r.notes == nil || r.notes.ChangesCurrent()
}

// Clients is the provider's registry of relying parties: change stored
// clients through it, so the provider sees the change at once.
func (p *Provider) Clients() *ClientRegistry { return p.clients }

// Static returns the config file's client of that id.
func (r *ClientRegistry) Static(id string) (storage.Client, bool) {
	c, ok := r.static[id]
	return c, ok
}

// StaticClients returns the config file's clients, by id.
func (r *ClientRegistry) StaticClients() []storage.Client {
	out := make([]storage.Client, 0, len(r.static))
	for _, c := range r.static {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b storage.Client) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// get returns a client by id, from config first, then the database.
func (r *ClientRegistry) get(ctx context.Context, id string) (storage.Client, error) {
	if c, ok := r.static[id]; ok {
		return c, nil
	}
	now := r.now()
	r.mu.RLock()
	cc, ok := r.cache[id]
	gen := r.gen
	r.mu.RUnlock()
	if ok && now.Sub(cc.fetched) < r.ttl && r.cacheCurrent() {
		return cc.c, nil
	}
	c, err := r.store.ClientByID(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			r.mu.Lock()
			delete(r.cache, id)
			r.mu.Unlock()
		}
		return storage.Client{}, err
	}
	r.mu.Lock()
	if r.gen == gen {
		if len(r.cache) >= maxCachedClients {
			clear(r.cache)
		}
		r.cache[id] = cachedClient{c: c, fetched: now}
	}
	r.mu.Unlock()
	return c, nil
}

// changed drops id from the cache after a change to it has committed.
func (r *ClientRegistry) changed(id string) {
	r.mu.Lock()
	r.gen++
	delete(r.cache, id)
	r.mu.Unlock()
}

// Create stores a new client. A confidential one that authenticates with
// a secret gets a random one, returned here only: the store keeps its
// HMAC. A private_key_jwt client gets none. ErrStaticClient or
// storage.ErrAlreadyExists when the id is taken.
func (r *ClientRegistry) Create(ctx context.Context, c storage.Client) (secret string, err error) {
	if _, ok := r.static[c.ID]; ok {
		return "", ErrStaticClient
	}
	c.SecretHash = nil
	if usesSecret(c) {
		if secret, err = newClientSecret(); err != nil {
			return "", err
		}
		c.SecretHash = HashSecret(r.hmacKey, secret)
	}
	if err := r.store.CreateClient(ctx, c); err != nil {
		return "", err
	}
	r.changed(c.ID)
	return secret, nil
}

// Remove deletes a stored client, its members' consents and every token it
// holds (storage.Clients.DeleteClient), and forgets it: its secret and its
// tokens fail from the next request on. ErrStaticClient, or
// storage.ErrNotFound.
func (r *ClientRegistry) Remove(ctx context.Context, id string) (storage.RemovedClient, error) {
	if _, ok := r.static[id]; ok {
		return storage.RemovedClient{}, ErrStaticClient
	}
	removed, err := r.store.DeleteClient(ctx, id)
	r.changed(id) // also after a failure: the next lookup reads storage
	return removed, err
}

// RotateSecret gives a stored confidential client a new random secret and
// returns the client and the secret; the old secret fails from the next
// request on. ErrStaticClient, storage.ErrNotFound, or ErrPublicClient.
func (r *ClientRegistry) RotateSecret(ctx context.Context, id string) (storage.Client, string, error) {
	if _, ok := r.static[id]; ok {
		return storage.Client{}, "", ErrStaticClient
	}
	secret, err := newClientSecret()
	if err != nil {
		return storage.Client{}, "", err
	}
	hash, now := HashSecret(r.hmacKey, secret), r.now().UTC()
	var out storage.Client
	err = r.store.UpdateClient(ctx, id, func(c storage.Client) (storage.Client, error) {
		if c.Public {
			return c, ErrPublicClient
		}
		if !usesSecret(c) {
			return c, ErrKeyClient
		}
		c.SecretHash, c.UpdatedAt = hash, now
		out = c
		return c, nil
	})
	r.changed(id)
	if err != nil {
		return storage.Client{}, "", err
	}
	return out, secret, nil
}

// ErrPublicClient: a public client has no secret to rotate.
var ErrPublicClient = errors.New("provider: the client is public and has no secret")

// ErrKeyClient: a private_key_jwt client authenticates with its keys and
// has no secret to rotate.
var ErrKeyClient = errors.New("provider: the client authenticates with its keys and has no secret")

// usesSecret reports whether c authenticates with a secret.
func usesSecret(c storage.Client) bool {
	return !c.Public && c.TokenEndpointAuthMethod != string(oidc.AuthMethodPrivateKeyJWT)
}

// newClientSecret returns 32 random bytes, base64url: 256 bits, safe in
// URLs and HTTP Basic authentication alike.
func newClientSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
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
