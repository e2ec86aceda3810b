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

// CreateAuthRequest stores a new authorization request: in memory until a
// code is saved for it (see pendingRequests), in the file when maxPending
// requests are already pending.
func (s *Store) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.ID == "" {
		return fmt.Errorf("bolt: %s: empty key", authRequests.kind)
	}
	e := &pendingRequest{}
	e.set(r)
	// Ids are random: the file is searched for a duplicate before the
	// lock is taken, and the memory under it.
	err := s.read(ctx, func(tx *bbolt.Tx) error { return authRequests.check(tx, true, &r) })
	if err != nil {
		return err
	}
	p := s.pending
	p.mu.Lock()
	if _, ok := p.m[r.ID]; ok {
		p.mu.Unlock()
		return fmt.Errorf("bolt: %s: %w", authRequests.name([]byte(r.ID)), storage.ErrAlreadyExists)
	}
	if len(p.m) < p.max {
		p.m[r.ID] = e
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	// Full: to the file, without holding up the requests in memory.
	return createOne(ctx, s, authRequests, r)
}

// AuthRequestByID returns the request, even when expired.
func (s *Store) AuthRequestByID(ctx context.Context, id string) (storage.AuthRequest, error) {
	var r storage.AuthRequest
	if ok, err := s.pending.with(ctx, id, func(e *pendingRequest) error {
		r = e.request()
		return nil
	}); ok {
		return r, err
	}
	return getOne(ctx, s, authRequests, []byte(id))
}

// UpdateAuthRequest applies fn to the request.
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	if ok, err := s.pending.with(ctx, id, func(e *pendingRequest) error {
		next, err := fn(e.request())
		if err != nil {
			return err
		}
		if next.ID != id {
			return fmt.Errorf("bolt: %s: an update may not change the key", authRequests.name([]byte(id)))
		}
		e.set(next)
		return nil
	}); ok {
		return err
	}
	return updateOne(ctx, s, authRequests, []byte(id), fn)
}

// DeleteAuthRequest deletes the request (its codes expire on their own).
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	if ok, err := s.pending.with(ctx, id, func(e *pendingRequest) error {
		e.gone = true
		s.pending.remove(id)
		return nil
	}); ok {
		return err
	}
	// Look before writing: op deletes every request after its code
	// exchange, and ClaimAuthCode has already removed it by then.
	if _, err := s.AuthRequestByID(ctx, id); err != nil {
		return err
	}
	return deleteOne(ctx, s, authRequests, []byte(id))
}

// SaveAuthCode stores a new authorization code. A request still held in
// memory is written with it, in the same commit (holding the request's
// lock meanwhile): the code is answered to the relying party only after
// both are durable.
func (s *Store) SaveAuthCode(ctx context.Context, c storage.AuthCode) error {
	if ok, err := s.pending.with(ctx, c.AuthRequestID, func(e *pendingRequest) error {
		return s.storePendingWithCode(ctx, e, e.request(), c)
	}); ok {
		return err
	}
	return createOne(ctx, s, authCodes, c)
}

// storePendingWithCode writes the pending request e as r together with
// the code c, in one commit, and drops e from memory once both are
// durable. The caller holds e's lock.
func (s *Store) storePendingWithCode(ctx context.Context, e *pendingRequest, r storage.AuthRequest, c storage.AuthCode) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		if err := authCodes.check(tx, true, &c); err != nil {
			return abort(err)
		}
		if err := authRequests.check(tx, true, &r); err != nil {
			return abort(err)
		}
		if err := authRequests.put(tx, nil, &r); err != nil {
			return err
		}
		return authCodes.put(tx, nil, &c)
	})
	if err != nil {
		return err
	}
	e.gone = true
	s.pending.remove(r.ID)
	return nil
}

// IssueAuthCode applies fn to c's request and stores c, in one commit;
// see storage.AuthRequests. A pending request goes to the file with it,
// as in SaveAuthCode.
func (s *Store) IssueAuthCode(ctx context.Context, c storage.AuthCode, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	id := c.AuthRequestID
	if ok, err := s.pending.with(ctx, id, func(e *pendingRequest) error {
		next, err := fn(e.request())
		if err != nil {
			return err
		}
		if next.ID != id {
			return fmt.Errorf("bolt: %s: an update may not change the key", authRequests.name([]byte(id)))
		}
		return s.storePendingWithCode(ctx, e, next, c)
	}); ok {
		return err
	}
	return s.write(ctx, func(tx *bbolt.Tx) error {
		// Every abort comes before the first write (see abort).
		if err := authCodes.check(tx, true, &c); err != nil {
			return abort(err)
		}
		if err := updateTx(tx, authRequests, []byte(id), fn); err != nil {
			return err
		}
		return authCodes.put(tx, nil, &c)
	})
}

// PeekAuthCode returns the code and its request; see storage.AuthRequests.
func (s *Store) PeekAuthCode(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	var (
		code storage.AuthCode
		req  storage.AuthRequest
	)
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		code, req, err = findCode(tx, hash, now)
		return err
	})
	return code, req, err
}

// findCode reads the code and its request and decides as a claim would:
// an unknown or expired code, or one whose request is gone, is ErrNotFound;
// a consumed one ErrConsumed, returned with the code (and the request if
// still there).
func findCode(tx *bbolt.Tx, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	c, err := authCodes.get(tx, []byte(hash))
	if err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, err
	}
	if !now.Before(c.ExpiresAt) { // expired, as in the other records' Expired
		return storage.AuthCode{}, storage.AuthRequest{}, fmt.Errorf("bolt: auth code expired at %s: %w", c.ExpiresAt.UTC().Format(time.RFC3339), storage.ErrNotFound)
	}
	r, rerr := authRequests.get(tx, []byte(c.AuthRequestID))
	if c.Consumed {
		// A replay: hand back what the first claim saw, so the caller can
		// revoke what it minted. The request may be gone by now.
		if rerr != nil {
			r = storage.AuthRequest{}
		}
		return c, r, fmt.Errorf("bolt: auth code of auth request %q: %w", c.AuthRequestID, storage.ErrConsumed)
	}
	if rerr != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, fmt.Errorf("bolt: auth code: %w", rerr)
	}
	return c, r, nil
}

// ClaimAuthCode marks the code consumed, deletes its request, stores ts and
// returns the code (as now stored) and the request; see
// storage.AuthRequests.
func (s *Store) ClaimAuthCode(ctx context.Context, hash string, now time.Time, ts ...storage.Token) (storage.AuthCode, storage.AuthRequest, error) {
	c, r, _, err := s.claimCode(ctx, hash, now, nil, ts)
	return c, r, err
}

// ClaimAuthCodeFresh is ClaimAuthCode that stores ts only if check finds
// nothing, in the same commit (storage.AuthRequests.ClaimAuthCodeFresh).
// One process answers from exact state: the revocations in memory are
// the file's, and the member is read in the claim's transaction.
func (s *Store) ClaimAuthCodeFresh(ctx context.Context, hash string, now time.Time, check storage.CodeCheck, ts ...storage.Token) (storage.AuthCode, storage.ClaimVerdict, error) {
	c, _, v, err := s.claimCode(ctx, hash, now, &check, ts)
	return c, v, err
}

// claimCode is both claims: with check nil, ts are stored whatever the
// facts, and the verdict is empty.
func (s *Store) claimCode(ctx context.Context, hash string, now time.Time, check *storage.CodeCheck, ts []storage.Token) (storage.AuthCode, storage.AuthRequest, storage.ClaimVerdict, error) {
	var (
		code storage.AuthCode
		req  storage.AuthRequest
		v    storage.ClaimVerdict
	)
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		v = storage.ClaimVerdict{}
		c, r, err := findCode(tx, hash, now)
		code, req = c, r // a replay returns what the first claim saw
		if err != nil {
			return abort(err)
		}
		code, req = storage.AuthCode{}, storage.AuthRequest{}
		if check != nil {
			v.Revoked = s.revoked.revoked(&check.Token)
			if check.MemberStamp != "" {
				m, err := members.get(tx, []byte(check.MemberID))
				if v.CredentialsChanged, err = check.StampChanged(m, err); err != nil {
					return err
				}
			}
		}
		if !v.Minted() {
			ts = nil // the code is spent, and mints nothing
		}
		if err := checkNewTokens(tx, ts); err != nil {
			return abort(err)
		}
		old := authCodes.keys(&c)
		c.Consumed = true
		if err := authCodes.put(tx, old, &c); err != nil {
			return err
		}
		// The request goes with its code: the caller has it now, and a
		// replay needs only the code's AuthRequestID.
		if err := authRequests.del(tx, &r); err != nil {
			return err
		}
		for i := range ts {
			t := ts[i]
			if err := tokens.put(tx, nil, &t); err != nil {
				return err
			}
		}
		code, req = c, r
		return nil
	})
	if err != nil {
		return code, req, storage.ClaimVerdict{}, err
	}
	return code, req, v, nil
}
