package storagetest

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
)

func supportSession(id string) storage.SupportSession {
	return storage.SupportSession{
		ID: id, MemberID: "m1", ClientID: "call-centre", Agent: "agent-7", ChallengeID: "otp-" + id,
		Channel: storage.ChannelSMS, Masked: "+81 90-****-5678", State: storage.SupportPending,
		MaxAttempts: 5, CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}
}

// supportEnter is one entry of a code, counted before the comparison.
func supportEnter(s storage.Store, id string, now time.Time) func(t *testing.T) error {
	return func(t *testing.T) error {
		return s.UpdateSupportSession(t.Context(), id, func(ss storage.SupportSession) (storage.SupportSession, error) {
			return ss.Enter(now)
		})
	}
}

var supportTests = []test{
	{"CreateSupportSession/round-trips exactly, in UTC; a taken id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ss := supportSession("s1")
		local := ss
		local.CreatedAt, local.ExpiresAt = ss.CreatedAt.In(tokyo()), ss.ExpiresAt.In(tokyo())
		ok(t, s.CreateSupportSession(ctx, local))
		got := must(s.SupportSessionByID(ctx, "s1"))(t)
		utcOnly(t, got)
		equal(t, got, ss)
		isErr(t, s.CreateSupportSession(ctx, supportSession("s1")), storage.ErrAlreadyExists)
		_, err := s.SupportSessionByID(ctx, "nope")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateSupportSession/an error from the function changes nothing; an unknown session returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSupportSession(ctx, supportSession("s1")))
		isErr(t, s.UpdateSupportSession(ctx, "s1", func(ss storage.SupportSession) (storage.SupportSession, error) {
			ss.State = storage.SupportVerified
			return ss, errBoom
		}), errBoom)
		equal(t, must(s.SupportSessionByID(ctx, "s1"))(t), supportSession("s1"))
		isErr(t, s.UpdateSupportSession(ctx, "nope", func(ss storage.SupportSession) (storage.SupportSession, error) { return ss, nil }),
			storage.ErrNotFound)
	}},
	{"UpdateSupportSession/single use: of 50 concurrent verifications of one session exactly one wins, the rest get ErrConsumed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSupportSession(ctx, supportSession("s1")))
		errs := race(50, func(i int) error {
			return s.UpdateSupportSession(ctx, "s1", func(ss storage.SupportSession) (storage.SupportSession, error) {
				return ss.Verify(at(time.Duration(i)*time.Second), 15*time.Minute)
			})
		})
		w := oneWinner(t, errs)
		got := must(s.SupportSessionByID(ctx, "s1"))(t)
		equal(t, got.State, storage.SupportVerified)
		equal(t, got.VerifiedAt, at(time.Duration(w)*time.Second))
		if !got.Proves("m1", got.VerifiedAt) || got.Proves("m2", got.VerifiedAt) || got.Proves("m1", got.VerifiedUntil) {
			t.Errorf("a verified session proves the wrong things: %+v", got)
		}
		// A verified session takes no further entry.
		isErr(t, supportEnter(s, "s1", at(time.Minute))(t), storage.ErrConsumed)
	}},
	{"UpdateSupportSession/attempt bound: of 50 concurrent entries exactly MaxAttempts are counted, the rest refused", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSupportSession(ctx, supportSession("s1")))
		errs := race(50, func(int) error { return supportEnter(s, "s1", at(time.Minute))(t) })
		counted := 0
		for i, err := range errs {
			switch {
			case err == nil:
				counted++
			case !errors.Is(err, storage.ErrSupportAttempts):
				t.Fatalf("entry %d: %v, want nil or ErrSupportAttempts", i, err)
			}
		}
		equal(t, counted, 5)
		ok(t, s.UpdateSupportSession(ctx, "s1", func(ss storage.SupportSession) (storage.SupportSession, error) { return ss.Fail(), nil }))
		got := must(s.SupportSessionByID(ctx, "s1"))(t)
		equal(t, got.Attempts, 5)
		equal(t, got.State, storage.SupportFailed)
		// A failed session is never verified afterwards.
		isErr(t, s.UpdateSupportSession(ctx, "s1", func(ss storage.SupportSession) (storage.SupportSession, error) {
			return ss.Verify(at(2*time.Minute), time.Minute)
		}), storage.ErrConsumed)
	}},
	{"UpdateSupportSession/expiry: no entry or verification at or after ExpiresAt", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSupportSession(ctx, supportSession("s1")))
		isErr(t, supportEnter(s, "s1", at(10*time.Minute))(t), storage.ErrSupportExpired)
		isErr(t, s.UpdateSupportSession(ctx, "s1", func(ss storage.SupportSession) (storage.SupportSession, error) {
			return ss.Verify(at(10*time.Minute), time.Minute)
		}), storage.ErrSupportExpired)
		equal(t, must(s.SupportSessionByID(ctx, "s1"))(t), supportSession("s1"))
	}},
	{"DeleteExpired/deletes a support session at the later of its code's expiry and its verified window", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSupportSession(ctx, supportSession("pending")))
		ok(t, s.CreateSupportSession(ctx, supportSession("verified")))
		ok(t, s.UpdateSupportSession(ctx, "verified", func(ss storage.SupportSession) (storage.SupportSession, error) {
			return ss.Verify(at(9*time.Minute), 15*time.Minute)
		}))
		equal(t, must(s.DeleteExpired(ctx, at(10*time.Minute)))(t), 1)
		_, err := s.SupportSessionByID(ctx, "pending")
		isErr(t, err, storage.ErrNotFound)
		must(s.SupportSessionByID(ctx, "verified"))(t)
		equal(t, must(s.DeleteExpired(ctx, at(24*time.Minute-time.Nanosecond)))(t), 0)
		equal(t, must(s.DeleteExpired(ctx, at(24*time.Minute)))(t), 1)
		_, err = s.SupportSessionByID(ctx, "verified")
		isErr(t, err, storage.ErrNotFound)
	}},
}
