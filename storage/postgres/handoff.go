package postgres

import (
	"context"
	"fmt"

	"tsubasa/storage"
)

// An update of an authorization request in one round trip instead of two.
// Within one HTTP request the login UI and the provider hand each other
// the request as that HTTP request last stored it (storage.WithHandoff):
// op creates it, the login UI completes it, the provider marks its code.
// When ctx carries such a copy, UpdateAuthRequest applies fn to the copy
// and writes the result with one compare-and-swap statement: the row is
// replaced only if its data is still, byte for byte, the copy's encoding.
// The comparison runs under the row lock the UPDATE takes (a concurrent
// writer's commit makes PostgreSQL evaluate the condition again on the
// newest version), so a success is exactly UpdateX's "fn applied to the
// current record, atomically". Anything else (another writer got there
// first, another encoding, fn refusing the copy) falls back to the locked
// read and write, where fn runs again on the row as it is: the copy never
// decides an outcome by itself.

// swapAuthRequestSQL replaces the request if its data is still $5.
const swapAuthRequestSQL = `UPDATE auth_requests SET expires_at = $2, expires_ns = $3, data = $4
WHERE id = $1 AND data::text = $5`

// swapAuthRequest tries the one-statement update from ctx's handed-off
// copy of request id. It reports whether it wrote; false with a nil error
// means the caller must take the locked path.
func (s *Store) swapAuthRequest(ctx context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error)) (bool, error) {
	cur, ok := storage.HandedAuthRequest(ctx, id)
	if !ok || !storable(id) {
		return false, nil
	}
	next, err := fn(cur)
	if err != nil {
		return false, nil // decided on the row itself, under its lock
	}
	if next.ID != id {
		return false, fmt.Errorf("postgres: %s: an update may not change the key", authRequests.name([]any{id}))
	}
	old, err := encode(cur)
	if err != nil {
		return false, nil
	}
	args, err := authRequests.args(&next)
	if err != nil {
		return false, err
	}
	var wrote bool
	err = s.writeStatement(ctx, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, swapAuthRequestSQL, append(args, string(old))...)
		if err != nil {
			return wrap(authRequests.name([]any{id}), err)
		}
		wrote = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return false, err
	}
	if wrote {
		storage.HandOffAuthRequest(ctx, next)
	}
	return wrote, nil
}
