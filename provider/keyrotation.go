package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsubasa/storage"
)

// Signing keys with several replicas.
//
// Every replica keeps the keys in memory (keyRing) and must publish, in
// its JWKS, every key any replica signs with, before relying parties see
// a token signed with it. So a new key is published first and signs only
// from its ActiveAt, keyPublishLead after it was created; its predecessor
// signs until then (its RetiredAt), then stays published for the
// retention. Each replica reloads the keys every keyReloadEvery, and at
// once when the store notifies a key change (storage.ChangeNotifier), so
// it publishes a new key within keyReloadEvery of its creation. A relying
// party caches the JWKS for at most a minute (jwksCacheControl). By a
// key's ActiveAt every cached JWKS was fetched after the key appeared on
// every replica: 15 s + 60 s < 2 min, leaving 45 s for a listener's
// reconnection and for clocks that disagree.
//
// Exactly one replica rotates a generation: the scheduled rotation claims
// "keys/rotate/<the newest key's id>" (storage.SingleUse) for
// rotationLease. The others find the claim taken and wait for the new
// keys to reach them. A replica that claims and dies before rotating holds
// the rotation up for the lease only; the next replica to find it due
// then claims again. The first keys of an empty database are created
// once the same way, and a replica starting meanwhile waits for them.

const (
	keyPublishLead = 2 * time.Minute
	keyReloadEvery = 15 * time.Second
	rotationLease  = 10 * time.Minute
	firstKeysLease = time.Minute
	firstKeysWait  = 30 * time.Second
)

// firstKeys creates a key for each algorithm that keys lack, unless
// another replica is creating them: then it waits for them.
func (r *keyRing) firstKeys(ctx context.Context, keys []storage.SigningKey) ([]storage.SigningKey, error) {
	var missing []string
	for _, alg := range algorithms {
		if !hasKey(keys, alg) {
			missing = append(missing, alg)
		}
	}
	if len(missing) == 0 {
		return keys, nil
	}
	now := r.now()
	err := r.store.ClaimOnce(ctx, "keys/first/"+strings.Join(missing, ","), now, now.Add(firstKeysLease))
	switch {
	case errors.Is(err, storage.ErrConsumed):
		return r.awaitKeys(ctx, missing)
	case err != nil:
		return nil, fmt.Errorf("provider: claiming the first signing keys: %w", err)
	}
	for _, alg := range missing {
		// The first key signs at once: no replica serves without keys,
		// and the others wait for these before they serve.
		k, err := NewSigningKey(alg, r.rsaBits, now)
		if err != nil {
			return nil, err
		}
		if err := r.store.CreateKey(ctx, k); err != nil {
			return nil, fmt.Errorf("provider: store key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// awaitKeys waits for another replica's first keys of the algorithms
// missing.
func (r *keyRing) awaitKeys(ctx context.Context, missing []string) ([]storage.SigningKey, error) {
	ctx, cancel := context.WithTimeout(ctx, firstKeysWait)
	defer cancel()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		keys, err := r.store.ListKeys(ctx)
		if err == nil && !slicesAny(missing, func(alg string) bool { return !hasKey(keys, alg) }) {
			return keys, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("provider: another replica is creating the first signing keys (%s) and none came "+
				"within %s; if it stopped, start again after %s", strings.Join(missing, ", "), firstKeysWait, firstKeysLease)
		case <-t.C:
		}
	}
}

func slicesAny[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if f(v) {
			return true
		}
	}
	return false
}

// rotate adds a new key per algorithm, published at once and signing from
// keyPublishLead on, and retires the old ones then (RotateKeys).
func (r *keyRing) rotate(ctx context.Context) ([]storage.SigningKey, error) {
	keys, err := RotateKeys(ctx, r.store, r.rsaBits, r.now(), r.retention)
	if err != nil {
		return nil, err
	}
	return keys, r.install(keys)
}

// rotateIfDue rotates when the newest key is period old, if this replica
// is the one to: it claims the rotation of that generation first, and
// looks at the stored keys again (another replica may have rotated since
// this one last loaded them).
func (r *keyRing) rotateIfDue(ctx context.Context, period time.Duration) (bool, error) {
	r.mu.RLock()
	newest := r.newest
	r.mu.RUnlock()
	now := r.now()
	if newest.ID == "" || now.Sub(newest.CreatedAt) < period {
		return false, nil
	}
	err := r.store.ClaimOnce(ctx, "keys/rotate/"+newest.ID, now, now.Add(rotationLease))
	if errors.Is(err, storage.ErrConsumed) {
		return false, nil // another replica rotates this generation
	}
	if err != nil {
		return false, fmt.Errorf("provider: claiming the key rotation: %w", err)
	}
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("provider: list keys: %w", err)
	}
	if n := newestOf(keys); n.ID != newest.ID {
		return false, r.install(keys) // rotated elsewhere meanwhile
	}
	_, err = r.rotate(ctx)
	return err == nil, err
}

func newestOf(keys []storage.SigningKey) storage.SigningKey {
	var n storage.SigningKey
	for _, k := range keys {
		if k.CreatedAt.After(n.CreatedAt) {
			n = k
		}
	}
	return n
}

// refresh installs the stored keys; install rebuilds nothing when they
// are the ones it holds.
func (r *keyRing) refresh(ctx context.Context) error {
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("provider: list keys: %w", err)
	}
	return r.install(keys)
}

// watch keeps the ring current until ctx ends: every keyReloadEvery, and
// at once when the store says a key changed.
func (r *keyRing) watch(ctx context.Context) {
	defer r.subscribe()()
	t := time.NewTicker(keyReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.reload:
		}
		if err := r.refresh(ctx); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "signing keys not reloaded", "error", err)
		}
	}
}

// subscribe asks the store to signal r.reload on every key change, when it
// can tell (storage.ChangeNotifier); it returns the unsubscribe.
func (r *keyRing) subscribe() (stop func()) {
	n, ok := r.store.(storage.ChangeNotifier)
	if !ok {
		return func() {}
	}
	return n.OnChange(storage.ChangeKeys, func(string) {
		select {
		case r.reload <- struct{}{}:
		default: // a reload is already due
		}
	})
}

// RotateKeys creates a new key for every algorithm, published from now and
// signing from now+keyPublishLead; retires the keys that sign now at that
// moment (published until then+retention); and deletes keys whose
// publication has ended. It returns the keys left. An algorithm with no
// key signing now (an empty database rotated by the CLI before any server
// started) gets a key that signs at once: there is nothing to hand over
// from, and nothing would sign meanwhile.
func RotateKeys(ctx context.Context, store storage.Keys, rsaBits int, now time.Time, retention time.Duration) ([]storage.SigningKey, error) {
	switchAt := now.Add(keyPublishLead).UTC()
	old, err := store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("provider: list keys: %w", err)
	}
	fresh := make([]storage.SigningKey, 0, len(algorithms))
	for _, alg := range algorithms {
		k, err := NewSigningKey(alg, rsaBits, now)
		if err != nil {
			return nil, err
		}
		k.ActiveAt = switchAt
		if !signsNow(old, alg, now) {
			k.ActiveAt = now.UTC()
		}
		fresh = append(fresh, k)
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
				k.RetiredAt, k.ExpiresAt = switchAt, switchAt.Add(retention)
				return k, nil
			})
			if err != nil {
				return nil, fmt.Errorf("provider: retire key %s: %w", k.ID, err)
			}
		}
	}
	return store.ListKeys(ctx)
}

// signsNow reports whether one of keys of alg signs at now: active from
// before now and not retired by then.
func signsNow(keys []storage.SigningKey, alg string, now time.Time) bool {
	for _, k := range keys {
		if k.Algorithm == alg && !now.Before(k.ActiveAt) && (k.RetiredAt.IsZero() || now.Before(k.RetiredAt)) {
			return true
		}
	}
	return false
}

// RotateKeys rotates the running provider's keys: the new ones are
// published at once, and sign from keyPublishLead on.
func (p *Provider) RotateKeys(ctx context.Context) ([]storage.SigningKey, error) {
	return p.keys.rotate(ctx)
}

// KeyRetention is how long retired keys stay published under these options.
func (o Options) KeyRetention() time.Duration {
	return max(o.IDTokenTTL, o.AccessTokenTTL) + 5*time.Minute
}
