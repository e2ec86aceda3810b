package provider

import (
	"context"
	"fmt"
)

// ReloadKeys reads the signing keys from storage again and serves them
// from now on: the JWKS, and the newest active key of each algorithm for
// signing. On a store that several processes share, a rotation made
// elsewhere (another replica's, or the CLI's `keys rotate`) reaches this
// process at its next reload; until then it signs with the key it had,
// which stays published everywhere until every token it signed has
// expired. A store that lacks an active key for an algorithm (a rotation
// half-way through its writes) leaves the keys as they were: the next
// reload finds it complete.
func (p *Provider) ReloadKeys(ctx context.Context) error {
	keys, err := p.keys.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("provider: reload keys: %w", err)
	}
	for _, alg := range algorithms {
		if !hasActive(keys, alg) {
			return fmt.Errorf("provider: reload keys: no active %s key stored yet; keeping the current ones", alg)
		}
	}
	return p.keys.install(keys)
}
