package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// Signing algorithms Tsubasa publishes. RS256 is the default for ID tokens,
// as OpenID Connect requires it be supported; ES256 and PS256 (RSA-PSS,
// for FAPI 2.0 clients, which may not use RS256) are offered per client.
// Each algorithm has a key of its own (one key, one algorithm: RFC 7517
// §4.4, and a PS256 key never signs RS256), so PS256 has its own RSA key.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgPS256 = "PS256"
)

var algorithms = []string{AlgRS256, AlgES256, AlgPS256}

type signingKey struct {
	id     string
	alg    jose.SignatureAlgorithm
	signer crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.signer }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	pub crypto.PublicKey
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.pub }

// keyRing holds the parsed keys in memory: signing must not read the
// database or parse DER on every token.
type keyRing struct {
	store     storage.Keys
	rsaBits   int
	now       func() time.Time
	retention time.Duration

	mu     sync.RWMutex
	active map[string]*signingKey // by algorithm
	public []op.Key
	newest time.Time
	// jwks is public as op's /keys would write it, swapped whole by install
	// so readers need no lock.
	jwks atomic.Pointer[document]
}

func newKeyRing(store storage.Keys, rsaBits int, now func() time.Time, retention time.Duration) *keyRing {
	if rsaBits < 2048 {
		rsaBits = 2048
	}
	return &keyRing{store: store, rsaBits: rsaBits, now: now, retention: retention}
}

// load reads every key, creating an active key for each algorithm that has none.
func (r *keyRing) load(ctx context.Context) error {
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("provider: list keys: %w", err)
	}
	for _, alg := range algorithms {
		if !hasActive(keys, alg) {
			k, err := NewSigningKey(alg, r.rsaBits, r.now())
			if err != nil {
				return err
			}
			if err := r.store.CreateKey(ctx, k); err != nil {
				return fmt.Errorf("provider: store key: %w", err)
			}
			keys = append(keys, k)
		}
	}
	return r.install(keys)
}

func hasActive(keys []storage.SigningKey, alg string) bool {
	for _, k := range keys {
		if k.Algorithm == alg && k.RetiredAt.IsZero() {
			return true
		}
	}
	return false
}

func (r *keyRing) install(keys []storage.SigningKey) error {
	now := r.now()
	active := map[string]*signingKey{}
	var public []op.Key
	var newest time.Time
	for _, k := range keys {
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			continue // retired long enough that nothing it signed is valid
		}
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			return fmt.Errorf("provider: key %s: %w", k.ID, err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return fmt.Errorf("provider: key %s is not a signing key", k.ID)
		}
		alg := jose.SignatureAlgorithm(k.Algorithm)
		public = append(public, &publicKey{id: k.ID, alg: alg, pub: signer.Public()})
		if k.RetiredAt.IsZero() {
			// With several active keys of one algorithm (two rotations racing),
			// sign with the newest.
			if cur, ok := active[k.Algorithm]; !ok || k.CreatedAt.After(createdOf(keys, cur.id)) {
				active[k.Algorithm] = &signingKey{id: k.ID, alg: alg, signer: signer}
			}
			if k.CreatedAt.After(newest) {
				newest = k.CreatedAt
			}
		}
	}
	jwks, err := encodeJWKS(public)
	if err != nil {
		return err
	}
	// The key set is swapped before the signing keys become visible, so a
	// token signed with a new key never meets a JWKS without it.
	r.mu.Lock()
	r.jwks.Store(jwks)
	r.active, r.public, r.newest = active, public, newest
	r.mu.Unlock()
	return nil
}

func createdOf(keys []storage.SigningKey, id string) time.Time {
	for _, k := range keys {
		if k.ID == id {
			return k.CreatedAt
		}
	}
	return time.Time{}
}

func (r *keyRing) signing(alg string) (*signingKey, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.active[alg]
	if !ok {
		return nil, fmt.Errorf("provider: no active %s key", alg)
	}
	return k, nil
}

func (r *keyRing) keySet() []op.Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.public
}

// jwksDocument is the published key set, prebuilt by install.
func (r *keyRing) jwksDocument() *document { return r.jwks.Load() }

// rotate adds a new active key per algorithm and retires the old ones, which
// stay published for the retention period.
func (r *keyRing) rotate(ctx context.Context) ([]storage.SigningKey, error) {
	keys, err := RotateKeys(ctx, r.store, r.rsaBits, r.now(), r.retention)
	if err != nil {
		return nil, err
	}
	return keys, r.install(keys)
}

func (r *keyRing) rotateIfDue(ctx context.Context, period time.Duration) (bool, error) {
	r.mu.RLock()
	due := r.now().Sub(r.newest) >= period
	r.mu.RUnlock()
	if !due {
		return false, nil
	}
	_, err := r.rotate(ctx)
	return err == nil, err
}

// RotateKeys creates a new active key for every algorithm, retires the
// previously active ones (published until now+retention) and deletes keys
// whose publication has ended. It returns the keys left.
func RotateKeys(ctx context.Context, store storage.Keys, rsaBits int, now time.Time, retention time.Duration) ([]storage.SigningKey, error) {
	fresh := make([]storage.SigningKey, 0, len(algorithms))
	for _, alg := range algorithms {
		k, err := NewSigningKey(alg, rsaBits, now)
		if err != nil {
			return nil, err
		}
		fresh = append(fresh, k)
	}
	old, err := store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("provider: list keys: %w", err)
	}
	for _, k := range fresh {
		if err := store.CreateKey(ctx, k); err != nil {
			return nil, fmt.Errorf("provider: store key: %w", err)
		}
	}
	for _, k := range old {
		switch {
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			if err := store.DeleteKey(ctx, k.ID); err != nil {
				return nil, fmt.Errorf("provider: delete key %s: %w", k.ID, err)
			}
		case k.RetiredAt.IsZero():
			err := store.UpdateKey(ctx, k.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
				k.RetiredAt, k.ExpiresAt = now, now.Add(retention)
				return k, nil
			})
			if err != nil {
				return nil, fmt.Errorf("provider: retire key %s: %w", k.ID, err)
			}
		}
	}
	return store.ListKeys(ctx)
}

// NewSigningKey generates a key for alg with a random kid.
func NewSigningKey(alg string, rsaBits int, now time.Time) (storage.SigningKey, error) {
	var priv any
	var err error
	switch alg {
	case AlgRS256, AlgPS256:
		priv, err = rsa.GenerateKey(rand.Reader, max(rsaBits, 2048))
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return storage.SigningKey{}, fmt.Errorf("provider: unsupported algorithm %q", alg)
	}
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("provider: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("provider: encode key: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{
		ID:         now.UTC().Format("20060102") + "-" + hex.EncodeToString(id),
		Algorithm:  alg,
		PrivateKey: der,
		CreatedAt:  now.UTC(),
	}, nil
}

// RotateKeys rotates the running provider's keys.
func (p *Provider) RotateKeys(ctx context.Context) ([]storage.SigningKey, error) {
	return p.keys.rotate(ctx)
}

// KeyRetention is how long retired keys stay published under these options.
func (o Options) KeyRetention() time.Duration {
	return max(o.IDTokenTTL, o.AccessTokenTTL) + 5*time.Minute
}
