package member

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/width"

	"tsubasa/storage"
)

// TelephoneResult is the answer of the telephone PIN check.
type TelephoneResult string

// Telephone PIN check answers.
const (
	TelephoneVerified    TelephoneResult = "verified"
	TelephoneNotVerified TelephoneResult = "not_verified"
	TelephoneLocked      TelephoneResult = "locked"
)

// VerifyTelephonePIN checks the legacy 6-digit PIN a caller gave the call
// centre. The PIN keeps working here after the web cutover; a password
// never does. TelephoneMaxFailures wrong PINs in a row lock the telephone
// channel for TelephoneLockout (the attempt that reaches the limit already
// answers TelephoneLocked); the web login is not affected, nor does it
// affect this. Unknown numbers are TelephoneNotVerified after a dummy hash.
// Errors: ErrBusy, or a storage failure.
func (s *Service) VerifyTelephonePIN(ctx context.Context, number, pin, ip string) (TelephoneResult, error) {
	now := s.now()
	pin = strings.TrimSpace(width.Fold.String(pin))
	adm, err := s.hasher.admit(false) // as on the web: ErrBusy records nothing
	if err != nil {
		return "", err
	}
	defer adm.close()
	ev := storage.Event{Type: EventTelephoneFailed, IP: ip, Method: MethodPIN, Time: now}

	n, nerr := ParseNumber(number)
	var m storage.Member
	if nerr == nil {
		m, err = s.store.MemberByNumber(ctx, n)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", fmt.Errorf("member: looking up number: %w", err)
		}
	}
	if nerr != nil || err != nil {
		if err := adm.dummy(ctx, pin); err != nil {
			return "", err
		}
		adm.close()
		ev.Reason, ev.Detail = ReasonBadCredentials, map[string]string{"number": printableNumber(number)}
		s.event(ctx, ev)
		return TelephoneNotVerified, nil
	}
	ev.MemberID = m.ID
	m, lockedFor, err := s.reserveTelephone(ctx, m.ID, now)
	switch {
	case errors.Is(err, errThrottled):
		adm.close()
		ev.Type, ev.Reason = EventTelephoneLocked, ReasonThrottled
		ev.Detail = map[string]string{"retry_after": lockedFor.Round(time.Second).String()}
		s.event(ctx, ev)
		return TelephoneLocked, nil
	case err != nil:
		return "", fmt.Errorf("member: recording attempt: %w", err)
	}
	hash := m.PINHash
	if !isPINShape(pin) {
		hash = "" // a dummy verify
	}
	ok, newHash, err := adm.check(ctx, hash, pin)
	switch {
	case errors.Is(err, ErrHashFormat):
		s.log.ErrorContext(ctx, "stored PIN hash unreadable", "member_id", m.ID, "error", err)
	case err != nil:
		return "", err
	}
	adm.close()
	return s.settleTelephone(ctx, m, ok, newHash, ev)
}

// reserveTelephone counts an attempt on the member's telephone channel
// before its PIN is checked, as the web login does, so that parallel
// guesses count; it fails with errThrottled (and how long the lock has
// left) while the channel is locked. The attempt that reaches the limit
// locks the channel already.
func (s *Service) reserveTelephone(ctx context.Context, id string, now time.Time) (storage.Member, time.Duration, error) {
	var (
		m         storage.Member
		lockedFor time.Duration
	)
	err := s.store.UpdateMember(ctx, id, func(old storage.Member) (storage.Member, error) {
		if now.Before(old.PhoneLockedUntil) {
			lockedFor = old.PhoneLockedUntil.Sub(now)
			return old, errThrottled
		}
		if !old.PhoneLockedUntil.IsZero() {
			old.PhoneFailures, old.PhoneLockedUntil = 0, time.Time{} // the lock ran out
		}
		old.PhoneFailures++
		if old.PhoneFailures >= s.opts.TelephoneMaxFailures {
			old.PhoneLockedUntil = now.Add(s.opts.TelephoneLockout)
		}
		m = old
		return old, nil
	})
	return m, lockedFor, err
}

// settleTelephone records the outcome of a checked PIN: a failure (and the
// lock it reached), or a success that clears the count and replaces a
// hash made with old parameters, unless the PIN changed meanwhile.
func (s *Service) settleTelephone(ctx context.Context, m storage.Member, ok bool, newHash string, ev storage.Event) (TelephoneResult, error) {
	if !ok || m.Status != storage.MemberActive {
		ev.Reason = ReasonBadCredentials
		if m.Status != storage.MemberActive {
			ev.Reason = ReasonDisabled
		}
		s.event(ctx, ev)
		if m.PhoneFailures >= s.opts.TelephoneMaxFailures {
			s.event(ctx, storage.Event{Type: EventTelephoneLocked, MemberID: m.ID, IP: ev.IP, Method: MethodPIN,
				Time: ev.Time, Reason: ReasonBadCredentials})
			return TelephoneLocked, nil
		}
		return TelephoneNotVerified, nil
	}
	old := m.PINHash
	ev.Type, ev.Success = EventTelephoneVerified, true
	err := s.updateWithEvent(ctx, m.ID, func(cur storage.Member) (storage.Member, error) {
		cur.PhoneFailures, cur.PhoneLockedUntil = 0, time.Time{}
		if newHash != "" && cur.PINHash == old {
			cur.PINHash = newHash
		}
		return cur, nil
	}, ev)
	if err != nil {
		return "", fmt.Errorf("member: recording telephone check: %w", err)
	}
	return TelephoneVerified, nil
}
