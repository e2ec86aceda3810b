package bolt

import (
	"context"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var otps = (&table[storage.OTP]{
	kind:   "otp",
	bucket: bOTPs,
	pk:     func(o *storage.OTP) []byte { return []byte(o.ID) },
	indexes: []index[storage.OTP]{{
		// At most one outstanding challenge per member and purpose.
		name: "member and purpose", bucket: bOTPsByPurpose, unique: true,
		key: func(_ []byte, o *storage.OTP) []byte {
			if o.MemberID == "" {
				return nil
			}
			return otpKey(o.MemberID, o.Purpose)
		},
	}},
}).withExpiry(bOTPsByExpiry, func(o *storage.OTP) (time.Time, bool) { return o.ExpiresAt, true })

func otpKey(memberID, purpose string) []byte { return ikey(memberID, []byte(purpose)) }

// PutOTP stores o, replacing any other challenge of the same member and
// purpose in the same commit.
func (s *Store) PutOTP(ctx context.Context, o storage.OTP) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		if o.ID == "" {
			return abort(otps.check(tx, true, &o)) // reports the empty key
		}
		if o.MemberID != "" {
			cur := tx.Bucket(bOTPsByPurpose).Get(otpKey(o.MemberID, o.Purpose))
			if cur != nil && string(cur) != o.ID {
				prev, err := otps.get(tx, cur)
				if err != nil {
					return err
				}
				if err := otps.del(tx, &prev); err != nil {
					return err
				}
			}
		}
		// Nothing can abort after the delete above; if it did, roll back.
		return noAbort(putTx(tx, otps, &o))
	})
}

// CurrentOTP returns the member's outstanding challenge for purpose, even
// when expired or consumed.
func (s *Store) CurrentOTP(ctx context.Context, memberID, purpose string) (storage.OTP, error) {
	var o storage.OTP
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		o, err = otps.lookup(tx, &otps.indexes[0], otpKey(memberID, purpose))
		return err
	})
	return o, err
}

// UpdateOTP applies fn to the challenge.
func (s *Store) UpdateOTP(ctx context.Context, id string, fn func(storage.OTP) (storage.OTP, error)) error {
	return updateOne(ctx, s, otps, []byte(id), fn)
}

// DeleteOTP deletes the challenge.
func (s *Store) DeleteOTP(ctx context.Context, id string) error {
	return deleteOne(ctx, s, otps, []byte(id))
}
