package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var authRequests = (&table[storage.AuthRequest]{
	kind:   "auth request",
	bucket: bAuthRequests,
	pk:     func(r *storage.AuthRequest) []byte { return []byte(r.ID) },
}).withExpiry(bAuthRequestsExp, func(r *storage.AuthRequest) (time.Time, bool) { return r.ExpiresAt, true })

var authCodes = (&table[storage.AuthCode]{
	kind:   "auth code",
	bucket: bAuthCodes,
	pk:     func(c *storage.AuthCode) []byte { return []byte(c.Hash) },
	// The key is a hash of a bearer secret: keep it out of error messages.
	label: func([]byte) string { return "auth code" },
}).withExpiry(bAuthCodesExp, func(c *storage.AuthCode) (time.Time, bool) { return c.ExpiresAt, true })

// CreateAuthRequest stores a new authorization request.
func (s *Store) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	return createOne(ctx, s, authRequests, r)
}

// AuthRequestByID returns the request, even when expired.
func (s *Store) AuthRequestByID(ctx context.Context, id string) (storage.AuthRequest, error) {
	return getOne(ctx, s, authRequests, []byte(id))
}

// UpdateAuthRequest applies fn to the request.
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	return updateOne(ctx, s, authRequests, []byte(id), fn)
}

// DeleteAuthRequest deletes the request (its codes expire on their own).
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	return deleteOne(ctx, s, authRequests, []byte(id))
}

// SaveAuthCode stores a new authorization code.
func (s *Store) SaveAuthCode(ctx context.Context, c storage.AuthCode) error {
	return createOne(ctx, s, authCodes, c)
}

// ClaimAuthCode marks the code consumed and returns it (as now stored) with
// its request; see storage.AuthRequests.
func (s *Store) ClaimAuthCode(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	var (
		code storage.AuthCode
		req  storage.AuthRequest
	)
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		code, req = storage.AuthCode{}, storage.AuthRequest{}
		c, err := authCodes.get(tx, []byte(hash))
		if err != nil {
			return abort(err)
		}
		if !now.Before(c.ExpiresAt) { // expired, as in the other records' Expired
			return abort(fmt.Errorf("bolt: auth code expired at %s: %w", c.ExpiresAt.UTC().Format(time.RFC3339), storage.ErrNotFound))
		}
		r, rerr := authRequests.get(tx, []byte(c.AuthRequestID))
		if c.Consumed {
			// A replay: hand back what the first claim saw, so the caller
			// can revoke what it minted. The request may be gone by now.
			code = c
			if rerr == nil {
				req = r
			}
			return abort(fmt.Errorf("bolt: auth code of auth request %q: %w", c.AuthRequestID, storage.ErrConsumed))
		}
		if rerr != nil {
			return abort(fmt.Errorf("bolt: auth code: %w", rerr))
		}
		old := authCodes.keys(&c)
		c.Consumed = true
		if err := authCodes.put(tx, old, &c); err != nil {
			return err
		}
		code, req = c, r
		return nil
	})
	return code, req, err
}
