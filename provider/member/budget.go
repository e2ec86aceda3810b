package member

import (
	"context"
	"errors"
	"time"

	"tsubasa/storage"
)

// A login attempt counts against a budget: the member's own lock state
// (FailedLogins, LockedUntil in the member record), or, for an attempt
// from a known device, the device's. A known device is a browser whose
// device cookie is recorded for this member (LoginInput.DeviceID): it has
// completed a login as the member before (provider/risk records it), and
// the cookie is 32 random bytes stored only as an HMAC, so nobody else can
// present it. The browser family is not compared (risk does, for alerts):
// a User-Agent is the client's to write, the cookie is not. Its budget is
// KnownDeviceMaxFailures within Window, with the member's delays, kept in
// its device record. So strangers' guesses, which lock the member, do not
// lock the member's own browser out, and guesses from a known browser
// (stolen, or shared) lock that browser only: OWASP's "slow down online
// guessing attacks with device cookies".
type budget struct {
	member string
	device string // "" = the member's own budget
}

// scope names the budget in a throttled event's detail.
func (b budget) scope() string {
	if b.device != "" {
		return "device"
	}
	return "member"
}

func deviceLockState(d storage.Device) lockState {
	return lockState{failures: d.FailedLogins, last: d.LastFailedLogin, lockedUntil: d.LockedUntil}
}

func (s lockState) applyToDevice(d storage.Device) storage.Device {
	d.FailedLogins, d.LastFailedLogin, d.LockedUntil = s.failures, s.last, s.lockedUntil
	return d
}

// forDevice are the rules of a known device's budget.
func (l LockoutOptions) forDevice() LockoutOptions {
	l.MaxFailures = l.KnownDeviceMaxFailures
	return l
}

// The lockout must see concurrent attempts (twenty guesses sent at once,
// to one replica or spread over several, may not all be checked against
// a limit of five), so an attempt is counted in flight, in storage
// (storage.LoginAttempts), before its secret is checked, and uncounted
// when it is answered; a failure is written to the member (or device)
// record before that, and a success clears the record. The limit is the
// stored state with every attempt in flight counted as a failure, as if
// each had been recorded before its check. EnterLogin reads the records
// after counting, so every attempt sees each earlier one either in the
// count or in the record, never in neither. Until an attempt is answered
// its result is known to no one, so a crash that forgets the count loses
// nothing; with several replicas, a replica that dies leaves its counts
// in the database until flightLease after the budget's latest attempt
// (the count lapses as a whole), holding the budget tighter meanwhile,
// never looser.

// flightLease bounds how long an attempt is counted in flight without
// leaving: longer than any attempt runs (the hash limiter's queue bounds
// the wait for a slot; a hash takes tens of milliseconds).
const flightLease = 2 * time.Minute

// reservation is an admitted attempt.
type reservation struct {
	member storage.Member // read after the attempt was counted
	budget budget         // what the attempt counts against
	clear  bool           // nothing was stored against the budget
}

// enter admits an attempt on the budget of the member's device deviceID,
// or the member's, at now, or returns how long the budget stays locked
// (and counts nothing). A device that is not the member's, or any device
// while known devices have no budget (KnownDeviceMaxFailures 0), counts
// against the member's budget. An admitted attempt must leave once its
// outcome is stored.
func (s *Service) enter(ctx context.Context, memberID, deviceID string, now time.Time) (reservation, time.Duration, error) {
	l := s.opts.Lockout
	if l.KnownDeviceMaxFailures <= 0 {
		deviceID = ""
	}
	f, err := s.store.EnterLogin(ctx, memberID, deviceID, now, now.Add(flightLease))
	if err != nil {
		return reservation{}, 0, err
	}
	b := budget{member: memberID}
	opts, st := l, lockStateOf(f.Member)
	if f.Device != nil {
		b.device = f.Device.ID
		opts, st = l.forDevice(), deviceLockState(*f.Device)
	}
	r := reservation{member: f.Member, budget: b, clear: st == lockState{}}
	for range f.InFlight { // the others in flight, then this one
		var retry time.Duration
		if st, retry = opts.reserve(st, now); retry > 0 {
			s.leave(storage.Direct(ctx), b)
			return r, retry, nil
		}
	}
	return r, 0, nil
}

// leave uncounts an attempt enter admitted, after its outcome is stored.
// Under the request's unit it is held, and commits with what the request
// answers with; a failure to write it is logged (the count lapses after
// flightLease).
func (s *Service) leave(ctx context.Context, b budget) {
	if err := s.store.LeaveLogin(context.WithoutCancel(ctx), b.member, b.device); err != nil {
		s.log.ErrorContext(ctx, "login attempt not uncounted", "member_id", b.member, "error", err)
	}
}

// countFailure stores a failed attempt against its budget before it is
// answered, at once (never held back to the answer: its write must fall
// inside the padded answer time). The member's budget is counted with the
// event in one commit; a device's is counted first and the event follows.
// A device forgotten meanwhile (signed out) counts against the member.
func (s *Service) countFailure(ctx context.Context, b budget, now time.Time, e storage.Event) error {
	ctx = storage.Direct(ctx)
	lockout := s.opts.Lockout
	if b.device != "" {
		err := s.store.UpdateDevice(ctx, b.member, b.device, func(d storage.Device) (storage.Device, error) {
			return lockout.forDevice().fail(deviceLockState(d), now).applyToDevice(d), nil
		})
		if err == nil {
			s.event(ctx, e)
			return nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		e.DeviceID = ""
	}
	return s.updateWithEvent(ctx, b.member, func(old storage.Member) (storage.Member, error) {
		return lockout.fail(lockStateOf(old), now).applyTo(old), nil
	}, e)
}

// clearDevice clears a known device's count after a success; the
// member's own count is left alone, so a member's login does not hand
// whoever is guessing from elsewhere a fresh budget.
func (s *Service) clearDevice(ctx context.Context, b budget) error {
	err := s.store.UpdateDevice(ctx, b.member, b.device, func(d storage.Device) (storage.Device, error) {
		return lockState{}.applyToDevice(d), nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil // forgotten meanwhile: nothing to clear
	}
	return err
}
