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
	"log/slog"
	"slices"
	"strings"
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
	id        string
	alg       jose.SignatureAlgorithm
	signer    crypto.Signer
	activeAt  time.Time // signs from then
	retiredAt time.Time // until then; zero: no successor scheduled
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
// database or parse DER on every token. It is a cache of the stored keys,
// kept current on every replica (keyrotation.go): reloaded every
// keyReloadEvery, and at once when the store notifies a key change.
type keyRing struct {
	store     KeyStore
	rsaBits   int
	now       func() time.Time
	retention time.Duration
	log       *slog.Logger
	// reload is signalled by a change notification (never blocks).
	reload chan struct{}

	mu      sync.RWMutex
	signers map[string][]*signingKey // by algorithm, newest ActiveAt first
	public  []op.Key
	newest  storage.SigningKey // the most recently created key
	seen    string             // fingerprint of the keys installed
	// jwks is public as op's /keys would write it, swapped whole by install
	// so readers need no lock.
	jwks atomic.Pointer[document]
}

// KeyStore is what the key ring needs from storage: the keys, and claims
// so that one replica alone creates the first keys or rotates a
// generation.
type KeyStore interface {
	storage.Keys
	storage.SingleUse
}

func newKeyRing(store KeyStore, rsaBits int, now func() time.Time, retention time.Duration, log *slog.Logger) *keyRing {
	if rsaBits < 2048 {
		rsaBits = 2048
	}
	return &keyRing{store: store, rsaBits: rsaBits, now: now, retention: retention, log: log, reload: make(chan struct{}, 1)}
}

// load reads every key, creating an active key for each algorithm that has
// none (firstKeys).
func (r *keyRing) load(ctx context.Context) error {
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("provider: list keys: %w", err)
	}
	if keys, err = r.firstKeys(ctx, keys); err != nil {
		return err
	}
	return r.install(keys)
}

// hasKey reports whether keys hold an unretired key of alg (signing now,
// or from its ActiveAt on).
func hasKey(keys []storage.SigningKey, alg string) bool {
	for _, k := range keys {
		if k.Algorithm == alg && k.RetiredAt.IsZero() {
			return true
		}
	}
	return false
}

// activeAt is when k starts signing.
func activeAt(k storage.SigningKey) time.Time {
	if k.ActiveAt.IsZero() {
		return k.CreatedAt
	}
	return k.ActiveAt
}

func (r *keyRing) install(keys []storage.SigningKey) error {
	now := r.now()
	var live []storage.SigningKey
	for _, k := range keys {
		if k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt) {
			live = append(live, k) // the others signed nothing still valid
		}
	}
	seen := fingerprint(live)
	r.mu.RLock()
	same := seen == r.seen && r.jwks.Load() != nil
	r.mu.RUnlock()
	if same {
		return nil // nothing changed: keep what is parsed
	}
	signers := map[string][]*signingKey{}
	var public []op.Key
	var newest storage.SigningKey
	for _, k := range live {
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
		signers[k.Algorithm] = append(signers[k.Algorithm],
			&signingKey{id: k.ID, alg: alg, signer: signer, activeAt: activeAt(k), retiredAt: k.RetiredAt})
		if k.CreatedAt.After(newest.CreatedAt) {
			newest = k
		}
	}
	for _, ks := range signers {
		// With several keys of one algorithm signing at once (two
		// rotations racing), sign with the newest.
		slices.SortStableFunc(ks, func(a, b *signingKey) int { return b.activeAt.Compare(a.activeAt) })
	}
	jwks, err := encodeJWKS(public)
	if err != nil {
		return err
	}
	// The key set is swapped before the signing keys become visible, so a
	// token signed with a new key never meets this process's JWKS without
	// it.
	r.mu.Lock()
	r.jwks.Store(jwks)
	r.signers, r.public, r.newest, r.seen = signers, public, newest, seen
	r.mu.Unlock()
	return nil
}

// fingerprint names a key set by what install reads of it.
func fingerprint(keys []storage.SigningKey) string {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s/%d/%d/%d/%d;", k.ID, k.CreatedAt.UnixNano(), activeAt(k).UnixNano(),
			k.RetiredAt.UnixNano(), k.ExpiresAt.UnixNano())
	}
	return b.String()
}

// signing returns the key that signs alg now: of the keys whose ActiveAt
// has come and whose RetiredAt has not, the newest. A key published ahead
// of its ActiveAt does not sign yet; its predecessor signs until then.
func (r *keyRing) signing(alg string) (*signingKey, error) {
	now := r.now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.signers[alg] {
		if !now.Before(k.activeAt) && (k.retiredAt.IsZero() || now.Before(k.retiredAt)) {
			return k, nil
		}
	}
	// No key in its window (a clock set back, or keys retired by hand):
	// the newest published key that has begun signing, rather than none.
	for _, k := range r.signers[alg] {
		if !now.Before(k.activeAt) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("provider: no active %s key", alg)
}

func (r *keyRing) keySet() []op.Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.public
}

// jwksDocument is the published key set, prebuilt by install.
func (r *keyRing) jwksDocument() *document { return r.jwks.Load() }

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
