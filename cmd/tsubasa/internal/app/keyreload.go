package app

import (
	"context"
	"time"
)

// keyReloadEvery is how often a replica on PostgreSQL reads the signing
// keys again (provider.ReloadKeys), and so the bound within which a key
// rotation made by another replica or by the CLI is published and used
// for signing by this one. Reading a few rows and parsing a few keys is
// cheap; a shorter period narrows the window in which a relying party
// may fetch this replica's JWKS without a key that another replica has
// begun to sign with.
const keyReloadEvery = 10 * time.Second

// reloadKeys reloads the signing keys every keyReloadEvery until ctx
// ends. A failure (the database away) keeps the keys it had.
func (s *server) reloadKeys(ctx context.Context) {
	t := time.NewTicker(keyReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.provider.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
				s.deps.Log.WarnContext(ctx, "signing keys not reloaded", "err", err)
			}
		}
	}
}
