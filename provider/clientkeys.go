package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"tsubasa/provider/outbound"
	"tsubasa/storage"
)

// clientKeyCache holds the public keys clients sign with (client assertions,
// request objects): a client's inline jwks, parsed once per value, and the
// key sets at jwks_uris, fetched through the outbound client (which refuses
// special-use addresses) and kept for jwksTTL. A key id the cached set
// lacks fetches the set again, at most once per jwksRefetchEvery for one
// URI, so that a client can rotate keys without waiting out the cache,
// while assertions with made-up key ids cannot make the provider hammer a
// partner's server.
//
// Process memory only, and safe so: it holds public keys, never a verdict.
// Lost, the keys are read again; stale, it is stale for at most jwksTTL
// (a key the client withdrew verifies that much longer), the same on every
// replica. A client removed or changed through the registry is looked up
// again on its next request, and its keys with it (by value).
type clientKeyCache struct {
	out *outbound.Client
	now func() time.Time

	mu     sync.Mutex
	inline map[string]inlineKeys // by client id
	uris   map[string]*uriKeys   // by jwks_uri
}

const (
	jwksTTL          = 5 * time.Minute
	jwksRefetchEvery = 30 * time.Second
	maxCachedKeySets = 10000
)

type inlineKeys struct {
	raw  string
	keys []jose.JSONWebKey
}

// uriKeys is one jwks_uri's keys; fetchMu makes one request fetch them
// while the others wait for its answer.
type uriKeys struct {
	fetchMu sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time // zero: never fetched successfully
	tried   time.Time
	err     error
}

func newClientKeyCache(out *outbound.Client, now func() time.Time) *clientKeyCache {
	return &clientKeyCache{out: out, now: now, inline: map[string]inlineKeys{}, uris: map[string]*uriKeys{}}
}

// errNoKeys: the client registered neither jwks nor jwks_uri.
var errNoKeys = errors.New("provider: the client has no registered keys")

// hasKeys reports whether c registered keys to sign with.
func hasKeys(c storage.Client) bool { return c.JWKS != "" || c.JWKSURI != "" }

// keys returns c's public signing keys; kid is the key id a signature
// names ("" for none), which a cached jwks_uri set may lack.
func (k *clientKeyCache) keys(ctx context.Context, c storage.Client, kid string) ([]jose.JSONWebKey, error) {
	switch {
	case c.JWKS != "":
		return k.inlineKeys(c), nil
	case c.JWKSURI != "":
		return k.uriKeys(ctx, c.JWKSURI, kid)
	}
	return nil, errNoKeys
}

func (k *clientKeyCache) inlineKeys(c storage.Client) []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.inline[c.ID]; ok && e.raw == c.JWKS {
		return e.keys
	}
	// A set that does not parse (config and the admin API refuse one)
	// verifies nothing.
	keys, _ := parseClientJWKS([]byte(c.JWKS))
	if len(k.inline) >= maxCachedKeySets {
		clear(k.inline)
	}
	k.inline[c.ID] = inlineKeys{raw: c.JWKS, keys: keys}
	return keys
}

func (k *clientKeyCache) uriKeys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	e, ok := k.uris[uri]
	if !ok {
		if len(k.uris) >= maxCachedKeySets {
			clear(k.uris)
		}
		e = &uriKeys{}
		k.uris[uri] = e
	}
	k.mu.Unlock()

	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	now := k.now()
	fresh := !e.fetched.IsZero() && now.Sub(e.fetched) < jwksTTL
	if fresh && (kid == "" || hasKid(e.keys, kid)) {
		return e.keys, nil
	}
	if !e.tried.IsZero() && now.Sub(e.tried) < jwksRefetchEvery {
		// Fetched, or failed, a moment ago: answer from that.
		if fresh {
			return e.keys, nil
		}
		return nil, e.err
	}
	e.tried = now
	body, err := k.out.Get(ctx, uri, "application/jwk-set+json, application/json")
	if err == nil {
		var keys []jose.JSONWebKey
		if keys, err = parseClientJWKS(body); err == nil {
			e.keys, e.fetched, e.err = keys, now, nil
			return keys, nil
		}
	}
	e.err = fmt.Errorf("provider: fetching the client's jwks_uri: %w", err)
	if fresh {
		return e.keys, nil // the cached set stands until it lapses
	}
	return nil, e.err
}

func hasKid(keys []jose.JSONWebKey, kid string) bool {
	for _, k := range keys {
		if k.KeyID == kid {
			return true
		}
	}
	return false
}

// parseClientJWKS parses a client's JWK Set (RFC 7517 §5) and returns its
// public signing keys. A set that holds a private or a symmetric key, a
// key of another type than RSA (2048 bits or more), EC or Ed25519, or no
// signing key at all, is refused: a client registers public keys only
// (config's validation applies the same rules to a jwks it is given).
// Keys for encryption (use "enc") are left out.
func parseClientJWKS(data []byte) ([]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	var out []jose.JSONWebKey
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %d (kid %q) is private or symmetric: register public keys only", i, k.KeyID)
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() < 2048 {
				return nil, fmt.Errorf("key %d (kid %q): RSA keys need 2048 bits or more", i, k.KeyID)
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("key %d (kid %q): type %T is not RSA, EC or Ed25519", i, k.KeyID, k.Key)
		}
		if k.Use == "enc" {
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("the set has no signing key")
	}
	return out, nil
}
