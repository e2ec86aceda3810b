package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

func otp(id, member, purpose string) storage.OTP {
	return storage.OTP{
		ID: id, MemberID: member, Purpose: purpose,
		Channel: storage.ChannelSMS, Destination: "+819012345678", Format: "digits",
		CodeHash: []byte("hmac-" + id), CreatedAt: at(0), ExpiresAt: at(5 * time.Minute),
	}
}

// claimOTP is how a caller claims a challenge: through UpdateOTP, failing
// with ErrConsumed when it was already claimed.
func claimOTP(o storage.OTP) (storage.OTP, error) {
	if o.Consumed {
		return o, storage.ErrConsumed
	}
	o.Consumed = true
	return o, nil
}

var otpTests = []test{
	{"PutOTP/stored challenge is the member's current one for its purpose", func(t *testing.T, s storage.Store) {
		o := otp("o1", "m1", "login")
		ok(t, s.PutOTP(t.Context(), o))
		equal(t, must(s.CurrentOTP(t.Context(), "m1", "login"))(t), o)
	}},
	{"PutOTP/replaces the outstanding challenge of the same member and purpose", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutOTP(ctx, otp("o1", "m1", "login")))
		newer := otp("o2", "m1", "login")
		ok(t, s.PutOTP(ctx, newer))
		equal(t, must(s.CurrentOTP(ctx, "m1", "login"))(t), newer)
		isErr(t, s.UpdateOTP(ctx, "o1", claimOTP), storage.ErrNotFound)
		isErr(t, s.DeleteOTP(ctx, "o1"), storage.ErrNotFound)
	}},
	{"PutOTP/keeps the challenges of other purposes and other members", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		keep := []storage.OTP{otp("o1", "m1", "login"), otp("o2", "m1", "step_up"), otp("o3", "m2", "login")}
		for _, o := range keep {
			ok(t, s.PutOTP(ctx, o))
		}
		ok(t, s.PutOTP(ctx, otp("o4", "m1", "contact")))
		for _, o := range keep {
			equal(t, must(s.CurrentOTP(ctx, o.MemberID, o.Purpose))(t), o)
		}
	}},
	{"PutOTP/same id again replaces the challenge", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutOTP(ctx, otp("o1", "m1", "login")))
		o := otp("o1", "m1", "login")
		o.CodeHash, o.ExpiresAt = []byte("resent"), at(10*time.Minute)
		ok(t, s.PutOTP(ctx, o))
		equal(t, must(s.CurrentOTP(ctx, "m1", "login"))(t), o)
	}},
	{"CurrentOTP/no challenge returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ok(t, s.PutOTP(t.Context(), otp("o1", "m1", "login")))
		for _, q := range [][2]string{{"m1", "reset"}, {"m2", "login"}} {
			_, err := s.CurrentOTP(t.Context(), q[0], q[1])
			isErr(t, err, storage.ErrNotFound)
		}
	}},
	{"UpdateOTP/attempts are stored", func(t *testing.T, s storage.Store) {
		ctx, o := t.Context(), otp("o1", "m1", "login")
		ok(t, s.PutOTP(ctx, o))
		ok(t, s.UpdateOTP(ctx, "o1", func(o storage.OTP) (storage.OTP, error) { o.Attempts++; return o, nil }))
		o.Attempts = 1
		equal(t, must(s.CurrentOTP(ctx, "m1", "login"))(t), o)
	}},
	{"UpdateOTP/claim marks it consumed and a second claim returns ErrConsumed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutOTP(ctx, otp("o1", "m1", "login")))
		ok(t, s.UpdateOTP(ctx, "o1", claimOTP))
		isErr(t, s.UpdateOTP(ctx, "o1", claimOTP), storage.ErrConsumed)
		equal(t, must(s.CurrentOTP(ctx, "m1", "login"))(t).Consumed, true)
	}},
	{"UpdateOTP/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, o := t.Context(), otp("o1", "m1", "login")
		ok(t, s.PutOTP(ctx, o))
		err := s.UpdateOTP(ctx, "o1", func(o storage.OTP) (storage.OTP, error) {
			o.Attempts, o.Purpose = 9, "reset"
			return o, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.CurrentOTP(ctx, "m1", "login"))(t), o)
	}},
	{"UpdateOTP/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		isErr(t, s.UpdateOTP(t.Context(), "nope", claimOTP), storage.ErrNotFound)
	}},
	{"UpdateOTP/50 concurrent claims have exactly one winner", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutOTP(ctx, otp("o1", "m1", "login")))
		oneWinner(t, race(50, func(int) error { return s.UpdateOTP(ctx, "o1", claimOTP) }))
		equal(t, must(s.CurrentOTP(ctx, "m1", "login"))(t).Consumed, true)
	}},
	{"DeleteOTP/deleted challenge is no longer current", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutOTP(ctx, otp("o1", "m1", "login")))
		ok(t, s.DeleteOTP(ctx, "o1"))
		_, err := s.CurrentOTP(ctx, "m1", "login")
		isErr(t, err, storage.ErrNotFound)
		isErr(t, s.DeleteOTP(ctx, "o1"), storage.ErrNotFound)
		ok(t, s.PutOTP(ctx, otp("o2", "m1", "login")))
	}},
}
