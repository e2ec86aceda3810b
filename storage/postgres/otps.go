package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

var otps = newTable(table[storage.OTP]{
	kind:   "otp",
	key:    []string{"id"},
	keyOf:  func(o *storage.OTP) []any { return []any{o.ID} },
	cols:   []string{"member_id", "purpose", "expires_at", "expires_ns"},
	colsOf: func(o *storage.OTP) []any { return []any{null(o.MemberID), o.Purpose, o.ExpiresAt, ns(o.ExpiresAt)} },
}, "otps")

const (
	currentOTPSQL = "SELECT data FROM otps WHERE member_id = $1 AND purpose = $2"
	// putOTPSQL replaces the member's challenge for the purpose, whatever
	// its id, in one statement: of concurrent puts the last to commit
	// stays, as the newest must. Another challenge with this id (for
	// another purpose) is deleted first.
	putOTPSQL = `INSERT INTO otps (id, member_id, purpose, expires_at, expires_ns, data) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (member_id, purpose) DO UPDATE SET id = EXCLUDED.id, expires_at = EXCLUDED.expires_at,
expires_ns = EXCLUDED.expires_ns, data = EXCLUDED.data`
	dropOTPSQL = "DELETE FROM otps WHERE id = $1 AND (member_id IS DISTINCT FROM $2 OR purpose <> $3)"
)

// PutOTP stores o and removes any other challenge of the same member and
// purpose, in one transaction.
func (s *Store) PutOTP(ctx context.Context, o storage.OTP) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := otps.checkKey(&o); err != nil {
			return err
		}
		if o.MemberID == "" {
			// Not indexed by member (as in bolt): replaced by id only.
			return otps.put(ctx, tx, &o)
		}
		if _, err := tx.Exec(ctx, dropOTPSQL, o.ID, o.MemberID, o.Purpose); err != nil {
			return wrap("otp", err)
		}
		return otps.exec(ctx, tx, putOTPSQL, &o)
	})
}

// CurrentOTP returns the member's outstanding challenge for purpose, even
// when expired or consumed.
func (s *Store) CurrentOTP(ctx context.Context, memberID, purpose string) (storage.OTP, error) {
	if err := s.live(ctx); err != nil {
		return storage.OTP{}, err
	}
	if !storableKeys([]any{memberID, purpose}) {
		return storage.OTP{}, notFound("otp")
	}
	o, err := otps.scan(s.pool.QueryRow(ctx, currentOTPSQL, memberID, purpose), nil)
	return o, err
}

// UpdateOTP applies fn to the challenge, its row locked meanwhile
// (SELECT … FOR UPDATE): a claim (fn refusing a consumed challenge with
// ErrConsumed) has exactly one winner however many processes try.
func (s *Store) UpdateOTP(ctx context.Context, id string, fn func(storage.OTP) (storage.OTP, error)) error {
	return updateOne(ctx, s, otps, []any{id}, fn)
}

// DeleteOTP deletes the challenge.
func (s *Store) DeleteOTP(ctx context.Context, id string) error {
	return deleteOne(ctx, s, otps, id)
}
