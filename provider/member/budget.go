package member

import (
	"context"
	"errors"
	"sync"
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

// lockStore is what counting attempts reads.
type lockStore interface {
	storage.Members
	storage.Devices
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

// inFlight counts, per budget, the attempts whose secret is being checked.
//
// The lockout must see concurrent attempts (twenty guesses sent at once
// may not all be checked against a limit of five), but it need not see
// them in the file: until an attempt is answered its result is known to
// no one, so a crash that forgets it loses nothing. An attempt is counted
// here while it runs; a failure is written to the member (or device)
// record before it is answered; a success clears the record. The limit
// is the stored state with every attempt in flight counted as a failure,
// as if each had been recorded before its check.
type inFlight struct {
	opts LockoutOptions
	mu   sync.Mutex
	n    map[budget]int
}

// reservation is an admitted attempt.
type reservation struct {
	member storage.Member // a fresh copy, read under the lock
	budget budget         // what the attempt counts against
	clear  bool           // nothing was stored against the budget
}

// reserve admits an attempt on budget b at now, or returns how long the
// budget stays locked. A device that is not the member's, or any device
// while known devices have no budget (KnownDeviceMaxFailures 0), counts
// against the member's budget. It reads the records under the lock, so
// that a failure settling meanwhile is seen either in the file or in the
// count (its write comes before done uncounts it), never in neither.
func (f *inFlight) reserve(ctx context.Context, store lockStore, b budget, now time.Time) (reservation, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := store.MemberByID(ctx, b.member)
	if err != nil {
		return reservation{}, 0, err
	}
	opts, st := f.opts, lockStateOf(m)
	if b.device != "" && f.opts.KnownDeviceMaxFailures > 0 {
		d, err := store.DeviceByID(ctx, b.member, b.device)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			b.device = ""
		case err != nil:
			return reservation{}, 0, err
		default:
			opts, st = f.opts.forDevice(), deviceLockState(d)
		}
	} else {
		b.device = ""
	}
	r := reservation{member: m, budget: b, clear: st == lockState{}}
	for range f.n[b] + 1 {
		var retry time.Duration
		if st, retry = opts.reserve(st, now); retry > 0 {
			return r, retry, nil
		}
	}
	if f.n == nil {
		f.n = map[budget]int{}
	}
	f.n[b]++
	return r, 0, nil
}

// done uncounts an attempt reserve admitted, after its outcome is stored.
func (f *inFlight) done(b budget) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[b]--; f.n[b] <= 0 {
		delete(f.n, b)
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
