package bolt

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// Revocations of tokens that are not stored.
//
// Access tokens are self-contained (the provider encrypts what it needs
// into the bearer value) and are never written, so deleting records cannot
// revoke them. DeleteTokens therefore also writes, in the same commit, a
// revocation: the filter it was given and when. TokenRevoked reports
// whether a token, decoded by the caller, is selected by a revocation made
// after the token was issued. Revocations are kept for RevokeFor (at least
// the longest access-token lifetime), then the janitor deletes them.
//
// The bucket maps the filter's canonical key (revocationKey) to a
// revocationRecord. All revocations also live in memory, in a map by key,
// so that TokenRevoked, on every userinfo and introspection call, costs a
// few map lookups: one process owns the file, so nothing else changes it.

// revocationRecord is the stored value of a revocation.
type revocationRecord struct {
	RevokedAt time.Time
	ExpiresAt time.Time
}

// The filter fields in key order are ID, FamilyID, AuthRequestID,
// SessionID, MemberID and ClientID; a shape is the bit set (bit i for
// field i) of the fields a filter uses.

func filterFields(f storage.TokenFilter) [6]string {
	return [6]string{f.ID, f.FamilyID, f.AuthRequestID, f.SessionID, f.MemberID, f.ClientID}
}

func tokenFields(t *storage.Token) [6]string {
	return [6]string{t.ID, t.FamilyID, t.AuthRequestID, t.SessionID, t.MemberID, t.ClientID}
}

func shapeOf(f storage.TokenFilter) uint8 {
	var shape uint8
	for i, v := range filterFields(f) {
		if v != "" {
			shape |= 1 << i
		}
	}
	return shape
}

// revocationKey is the canonical key of the fields of shape taken from
// values: each used field as its index and value, separated by 0x1f
// (which no id contains).
func revocationKey(shape uint8, values [6]string) string {
	var b strings.Builder
	for i, v := range values {
		if shape&(1<<i) != 0 {
			b.WriteByte('0' + byte(i))
			b.WriteString(v)
			b.WriteByte(0x1f)
		}
	}
	return b.String()
}

type revocations struct {
	keep time.Duration

	mu     sync.RWMutex
	at     map[string]time.Time // key → latest RevokedAt
	shapes map[uint8]int        // shape → how many keys have it
}

func newRevocations(keep time.Duration) *revocations {
	if keep <= 0 {
		keep = 24 * time.Hour
	}
	return &revocations{keep: keep, at: map[string]time.Time{}, shapes: map[uint8]int{}}
}

// load reads the bucket into memory at open.
func (r *revocations) load(tx *bbolt.Tx) error {
	return tx.Bucket(bRevocations).ForEach(func(k, v []byte) error {
		var rec revocationRecord
		if err := decode(v, &rec); err != nil {
			return fmt.Errorf("token revocation: %w", err)
		}
		r.remember(string(k), rec.RevokedAt)
		return nil
	})
}

func (r *revocations) remember(key string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.at[key]
	if !ok {
		r.shapes[key2shape(key)]++
	}
	if !ok || at.After(old) {
		r.at[key] = at
	}
}

// forget drops key after the janitor deleted its record, unless a newer
// revocation of the same filter was remembered meanwhile.
func (r *revocations) forget(key string, revokedAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.at[key]; ok && !at.After(revokedAt) {
		delete(r.at, key)
		s := key2shape(key)
		if r.shapes[s]--; r.shapes[s] <= 0 {
			delete(r.shapes, s)
		}
	}
}

// key2shape recovers the shape from a key written by revocationKey.
func key2shape(key string) uint8 {
	var shape uint8
	for _, part := range strings.Split(strings.TrimSuffix(key, "\x1f"), "\x1f") {
		if part != "" && part[0] >= '0' && part[0] <= '5' {
			shape |= 1 << (part[0] - '0')
		}
	}
	return shape
}

// revoked reports whether a revocation made at or after t.CreatedAt
// selects t.
func (r *revocations) revoked(t *storage.Token) bool {
	values := tokenFields(t)
	r.mu.RLock()
	defer r.mu.RUnlock()
	for shape := range r.shapes {
		if at, ok := r.at[revocationKey(shape, values)]; ok && !t.CreatedAt.After(at) {
			return true
		}
	}
	return false
}

// put writes the revocation of f at now inside a write; the caller calls
// remember after the commit.
func (r *revocations) put(tx *bbolt.Tx, f storage.TokenFilter, now time.Time) (string, error) {
	key := revocationKey(shapeOf(f), filterFields(f))
	data, err := encode(revocationRecord{RevokedAt: now, ExpiresAt: now.Add(r.keep)})
	if err != nil {
		return "", err
	}
	return key, tx.Bucket(bRevocations).Put([]byte(key), data)
}

// deleteExpired deletes the revocations whose ExpiresAt is not after now.
// They are few (one per revoking call within RevokeFor), so a scan does.
func (r *revocations) deleteExpired(tx *bbolt.Tx, now time.Time) (map[string]time.Time, error) {
	gone := map[string]time.Time{}
	c := tx.Bucket(bRevocations).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var rec revocationRecord
		if err := decode(v, &rec); err != nil || !now.Before(rec.ExpiresAt) {
			gone[string(k)] = rec.RevokedAt
		}
	}
	for k := range gone {
		if err := tx.Bucket(bRevocations).Delete([]byte(k)); err != nil {
			return nil, err
		}
	}
	return gone, nil
}

// TokenRevoked reports whether a DeleteTokens call made at or after
// t.CreatedAt selects t; see storage.Tokens.
func (s *Store) TokenRevoked(ctx context.Context, t storage.Token) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.revoked.revoked(&t), nil
}

// due reports whether a revocation remembered in memory has expired by
// now; the file holds no other (load read them all at open).
func (r *revocations) due(now time.Time) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, at := range r.at {
		if !now.Before(at.Add(r.keep)) {
			return true
		}
	}
	return false
}

// deleteExpiredRevocations is the janitor's part for revocations. It
// writes only when one is due: an empty commit would still fsync.
func (s *Store) deleteExpiredRevocations(ctx context.Context, now time.Time) (int, error) {
	if !s.revoked.due(now) {
		return 0, ctx.Err()
	}
	var gone map[string]time.Time
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		var err error
		gone, err = s.revoked.deleteExpired(tx, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	for k, at := range gone {
		s.revoked.forget(k, at)
	}
	return len(gone), nil
}
