package otp

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// outcome of one Verify inside the update function.
type outcome int

const (
	outcomeNone   outcome = iota // fn aborted with a state error
	outcomeOK                    // code matched; challenge consumed
	outcomeWrong                 // counted; attempts left
	outcomeLocked                // counted; this was the last attempt
)

// verifyRetries bounds the lookups when Issue keeps replacing the challenge.
const verifyRetries = 3

// Verify checks input against the member's challenge for purpose and, when
// it matches, consumes it and returns the consumed record (its Channel
// tells email from SMS for amr). input is what the member typed for digits,
// or for pictograms the canonical code from ParsePictogramInput (the text
// fallback is accepted here too). See the package documentation for every
// answer; ip goes to the audit log.
func (s *Service) Verify(ctx context.Context, memberID, purpose, input, ip string) (storage.OTP, error) {
	if !slices.Contains(Purposes(), purpose) {
		return storage.OTP{}, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	// A concurrent Issue may replace the challenge between the read and
	// the update; the update then finds no record and we look again.
	for range verifyRetries {
		cur, err := s.store.CurrentOTP(ctx, memberID, purpose)
		if errors.Is(err, storage.ErrNotFound) {
			return storage.OTP{}, ErrNoChallenge
		}
		if err != nil {
			return storage.OTP{}, fmt.Errorf("otp: verify: %w", err)
		}
		got, err := s.verifyOnce(ctx, cur, input, ip)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		return got, err
	}
	return storage.OTP{}, ErrNoChallenge
}

// VerifyChallenge is Verify restricted to one challenge: input passes only
// against the member's challenge challengeID for purpose. A newer
// challenge of the member and purpose (Issue replaced this one) answers
// ErrNoChallenge, without counting or consuming anything, so that a code
// sent for one support session never verifies another.
func (s *Service) VerifyChallenge(ctx context.Context, memberID, purpose, challengeID, input, ip string) (storage.OTP, error) {
	if !slices.Contains(Purposes(), purpose) {
		return storage.OTP{}, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	cur, err := s.store.CurrentOTP(ctx, memberID, purpose)
	if errors.Is(err, storage.ErrNotFound) || err == nil && cur.ID != challengeID {
		return storage.OTP{}, ErrNoChallenge
	}
	if err != nil {
		return storage.OTP{}, fmt.Errorf("otp: verify: %w", err)
	}
	// UpdateOTP names the record by id: replaced meanwhile, it is gone.
	got, err := s.verifyOnce(ctx, cur, input, ip)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.OTP{}, ErrNoChallenge
	}
	return got, err
}

func (s *Service) verifyOnce(ctx context.Context, cur storage.OTP, input, ip string) (storage.OTP, error) {
	now := s.now()
	ev := storage.Event{MemberID: cur.MemberID, IP: ip, Method: cur.Channel, Detail: detail(cur)}
	canonical, ok := canonicalInput(cur.Format, input, s.Length(cur.Format))
	if !ok {
		// Not worth an attempt, nor an audit record (nothing was compared):
		// answer from the stored state without a write.
		if err := s.state(cur, now); err != nil {
			return storage.OTP{}, s.failed(ctx, ev, err)
		}
		return storage.OTP{}, &InvalidCodeError{Remaining: s.o.MaxAttempts - cur.Attempts, Malformed: true}
	}
	mac := s.mac(cur.Purpose, cur.MemberID, canonical)

	// fn may run more than once: it sets res and out afresh each time.
	var (
		res storage.OTP
		out outcome
	)
	fn := func(o storage.OTP) (storage.OTP, error) {
		res, out = o, outcomeNone
		if err := s.state(o, now); err != nil {
			return o, err
		}
		if hmac.Equal(o.CodeHash, mac) {
			o.Consumed = true
			res, out = o, outcomeOK
			return o, nil
		}
		o.Attempts++
		out = outcomeWrong
		if o.Attempts >= s.o.MaxAttempts {
			// Dead: consumed, with Attempts at the limit; see doc.go.
			o.Consumed = true
			out = outcomeLocked
		}
		res = o
		return o, nil
	}
	err := s.store.UpdateOTP(ctx, cur.ID, fn)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.OTP{}, err // replaced meanwhile; Verify looks again
	}
	if st := stateOf(err); st != nil && out == outcomeNone {
		return storage.OTP{}, s.failed(ctx, ev, st)
	}
	if err != nil {
		return storage.OTP{}, fmt.Errorf("otp: verify: %w", err)
	}
	switch out {
	case outcomeOK:
		s.limits.used(ctx, res.MemberID, res.Purpose, s.now())
		ev.Type, ev.Success = EventVerified, true
		s.event(ctx, ev)
		s.log.InfoContext(ctx, "otp verified", "member_id", res.MemberID, "purpose", res.Purpose, "channel", res.Channel)
		return res, nil
	case outcomeLocked:
		ev.Type, ev.Reason = EventLocked, "too_many_attempts"
		s.event(ctx, ev)
		s.log.WarnContext(ctx, "otp challenge ended after too many wrong entries",
			"member_id", res.MemberID, "purpose", res.Purpose, "attempts", res.Attempts)
		return storage.OTP{}, ErrTooManyAttempts
	default:
		ev.Type, ev.Reason = EventFailed, "invalid_code"
		s.event(ctx, ev)
		return storage.OTP{}, &InvalidCodeError{Remaining: s.o.MaxAttempts - res.Attempts}
	}
}

// failed records an answer from the challenge's state and returns it.
func (s *Service) failed(ctx context.Context, ev storage.Event, err error) error {
	ev.Type = EventFailed
	switch err {
	case ErrTooManyAttempts:
		ev.Reason = "too_many_attempts"
	case ErrConsumed:
		ev.Reason = "consumed"
	case ErrExpired:
		ev.Reason = "expired"
	}
	s.event(ctx, ev)
	return err
}

// stateOf returns the state sentinel err carries (however the store
// wrapped it), or nil.
func stateOf(err error) error {
	for _, st := range []error{ErrTooManyAttempts, ErrConsumed, ErrExpired} {
		if errors.Is(err, st) {
			return st
		}
	}
	return nil
}

// AMR returns the RFC 8176 method references a verified challenge adds to
// the login: "otp" always, and "sms" as well when the code went by SMS.
// Combine them with the password's through acr.AMR, which adds "mfa".
func AMR(o storage.OTP) []string {
	if o.Channel == ChannelSMS {
		return []string{acr.AMROTP, acr.AMRSMS}
	}
	return []string{acr.AMROTP}
}
