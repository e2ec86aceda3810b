package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// Pushed authorization requests (RFC 9126) and used client-assertion jtis:
// both single use, both kept until they expire, when the janitor takes
// them. Their buckets are late ones (schema.go): files from before them
// get them at their first read-write open.

var pushedRequests = (&table[storage.PushedRequest]{
	kind:   "pushed request",
	bucket: bPushedRequests,
	pk:     func(r *storage.PushedRequest) []byte { return []byte(r.ID) },
	// The key is the HMAC of a request_uri: keep it out of error messages.
	label: func([]byte) string { return "pushed request" },
}).withExpiry(bPushedRequestsExp, func(r *storage.PushedRequest) (time.Time, bool) { return r.ExpiresAt, true })

var usedJTIs = (&table[storage.UsedJTI]{
	kind:   "used jti",
	bucket: bUsedJTIs,
	pk:     func(j *storage.UsedJTI) []byte { return []byte(j.Key) },
	label:  func([]byte) string { return "used jti" },
}).withExpiry(bUsedJTIsExp, func(j *storage.UsedJTI) (time.Time, bool) { return j.ExpiresAt, true })

// CreatePushedRequest stores a new pushed request.
func (s *Store) CreatePushedRequest(ctx context.Context, r storage.PushedRequest) error {
	return createOne(ctx, s, pushedRequests, r)
}

// ClaimPushedRequest marks clientID's request id consumed, in one write;
// see storage.PushedRequests.
func (s *Store) ClaimPushedRequest(ctx context.Context, id, clientID string, now time.Time) (storage.PushedRequest, error) {
	var out storage.PushedRequest
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = storage.PushedRequest{}
		r, err := pushedRequests.get(tx, []byte(id))
		if err != nil {
			return abort(err)
		}
		// Another client's request is as unknown to this one as a
		// missing one, and stays claimable by its own client.
		if r.ClientID != clientID || r.Expired(now) {
			return abort(pushedRequests.notFound([]byte(id)))
		}
		if r.Consumed {
			return abort(fmt.Errorf("bolt: pushed request: %w", storage.ErrConsumed))
		}
		old := pushedRequests.keys(&r)
		r.Consumed = true
		if err := pushedRequests.put(tx, old, &r); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// JTIUsed reports whether key is recorded and not expired at now.
func (s *Store) JTIUsed(ctx context.Context, key string, now time.Time) (bool, error) {
	used := false
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		cur, err := usedJTIs.get(tx, []byte(key))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		used = now.Before(cur.ExpiresAt)
		return nil
	})
	return used, err
}

// UseJTI records j unless its key is recorded and not expired at now; see
// storage.JTIs.
func (s *Store) UseJTI(ctx context.Context, j storage.UsedJTI, now time.Time) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		cur, err := usedJTIs.get(tx, []byte(j.Key))
		switch {
		case err == nil && now.Before(cur.ExpiresAt):
			return abort(fmt.Errorf("bolt: used jti: %w", storage.ErrConsumed))
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
		return putTx(tx, usedJTIs, &j)
	})
}
