package member

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"tsubasa/provider/clientaddr"
	"tsubasa/storage"
)

// lockState is the per-member web throttle, kept in the member record for
// members, in the device record for known devices, and in a storage
// throttle for unknown numbers, with the same rules for all so a throttled
// answer does not tell whether a number exists.
type lockState struct {
	failures    int
	last        time.Time
	lockedUntil time.Time
}

func lockStateOf(m storage.Member) lockState {
	return lockState{failures: m.FailedLogins, last: m.LastFailedLogin, lockedUntil: m.LockedUntil}
}

func (s lockState) applyTo(m storage.Member) storage.Member {
	m.FailedLogins, m.LastFailedLogin, m.LockedUntil = s.failures, s.last, s.lockedUntil
	return m
}

// reserve records an attempt at now before its secret is checked, so that
// concurrent attempts see each other and cannot all slip past the limit; a
// successful attempt clears the state afterwards. It returns the time left
// when the key is locked (and the state unchanged).
func (l LockoutOptions) reserve(s lockState, now time.Time) (lockState, time.Duration) {
	if now.Before(s.lockedUntil) {
		return s, s.lockedUntil.Sub(now)
	}
	return l.fail(s, now), 0
}

// delay is BaseDelay·2^(n−MaxFailures), capped at MaxDelay.
func (l LockoutOptions) delay(n int) time.Duration {
	shift := n - l.MaxFailures
	if shift < 0 {
		shift = 0
	}
	if shift > 30 {
		return l.MaxDelay
	}
	d := l.BaseDelay << shift
	if d <= 0 || d > l.MaxDelay {
		return l.MaxDelay
	}
	return d
}

// Keys of the throttles this package keeps in storage (storage.Throttles):
// shared by every process on the backend, so that a guess counts wherever
// it lands.
func numberKey(number string) string { return "login/number/" + number }

// addressKey is the key of the per-address window of ip: an IPv6 client
// counts under its network (LockoutOptions.IPv6Prefix), so that rotating
// through the addresses of a /64 buys no guesses.
func (l LockoutOptions) addressKey(ip string) string {
	return "login/address/" + clientaddr.LimitKey(ip, l.IPv6Prefix)
}

// lockStateOfThrottle and throttleOf map an unknown number's lock state to
// its stored record. The record expires once the state no longer
// influences any answer: its lock is over and its last failure is more
// than Window old (the next failure would start the count afresh).
func lockStateOfThrottle(t storage.Throttle) lockState {
	return lockState{failures: t.Count, last: t.Last, lockedUntil: t.Until}
}

func (l LockoutOptions) throttleOf(s lockState) storage.Throttle {
	return storage.Throttle{Count: s.failures, Last: s.last, Until: s.lockedUntil,
		ExpiresAt: later(s.lockedUntil, s.last.Add(l.Window).Add(time.Nanosecond))}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// reserveUnknown counts an attempt on a well-formed number that belongs
// to no member, exactly as a member's own record would count it, so that
// a throttled answer does not tell whether a number exists. It returns the
// time left when the number is locked (nothing counted). Check and count
// are one storage update: concurrent guesses on any replica see each
// other.
func (s *Service) reserveUnknown(ctx context.Context, number string, now time.Time) (time.Duration, error) {
	var retry time.Duration
	l := s.opts.Lockout
	err := s.store.UpdateThrottles(ctx, now, []string{numberKey(number)}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
		st, r := l.reserve(lockStateOfThrottle(ts[0]), now)
		if retry = r; r > 0 {
			return nil, errThrottled
		}
		return []storage.Throttle{l.throttleOf(st)}, nil
	})
	if errors.Is(err, errThrottled) {
		return retry, nil
	}
	return 0, err
}

// The per-address limit is a sliding window of failures (the Times of its
// throttle, at most PerIPMaxFailures, newest last). An attempt reads it
// before its secret is checked and is refused when the window is full; a
// failed or throttled answer adds itself (addressFailed). Only failures
// count: many members behind one address (a NAT, a corporate proxy)
// logging in at the same time are not refused because their attempts
// are in flight together. The price is a bounded overshoot: attempts
// admitted together while the address was under its limit may all fail,
// but no more run at once than the hash limiters of the replicas admit,
// and the per-member lockout, counted before each check, stays exact.

// addressWait returns how long until the window of ip has room, or 0. An
// empty ip (a command-line caller) is never limited.
func (s *Service) addressWait(ctx context.Context, ip string, now time.Time) (time.Duration, error) {
	limit, window := s.opts.Lockout.PerIPMaxFailures, s.opts.Lockout.Window
	if ip == "" || limit <= 0 {
		return 0, nil
	}
	t, err := s.store.Throttle(ctx, s.opts.Lockout.addressKey(ip), now)
	if err != nil {
		return 0, err
	}
	ts := inWindow(t.Times, now, window)
	if len(ts) < limit {
		return 0, nil
	}
	return ts[len(ts)-limit].Add(window).Sub(now), nil
}

// addressFailed adds a failed (or throttled) attempt at now to the window
// of ip. It is written at once, inside the answer's padded time.
func (s *Service) addressFailed(ctx context.Context, ip string, now time.Time) error {
	limit, window := s.opts.Lockout.PerIPMaxFailures, s.opts.Lockout.Window
	if ip == "" || limit <= 0 {
		return nil
	}
	return s.store.UpdateThrottles(storage.Direct(ctx), now, []string{s.opts.Lockout.addressKey(ip)}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
		times := append(inWindow(ts[0].Times, now, window), now)
		slices.SortFunc(times, time.Time.Compare)
		// Failures older than the newest limit decide no answer.
		times = times[max(0, len(times)-limit):]
		return []storage.Throttle{{Times: times, ExpiresAt: times[len(times)-1].Add(window)}}, nil
	})
}

// inWindow returns the times of ts still in the window ending at now:
// those less than window before it.
func inWindow(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	out := make([]time.Time, 0, len(ts)+1)
	for _, t := range ts {
		if now.Sub(t) < window {
			out = append(out, t)
		}
	}
	return out
}

// failureTiming pads credential failures to a common duration: a failure
// for a known member writes its throttle record, one for an unknown number
// does not, and that difference must not show. Every failure waits until
// the moving average of known-member failures has elapsed.
type failureTiming struct {
	mu  sync.Mutex
	avg time.Duration
}

func (f *failureTiming) observe(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.avg == 0 {
		f.avg = d
		return
	}
	f.avg += (d - f.avg) / 8
}

func (f *failureTiming) pad(ctx context.Context, start time.Time) {
	f.mu.Lock()
	target := f.avg
	f.mu.Unlock()
	wait := target - time.Since(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// fail counts a failed attempt made at now into s: unlike reserve it
// counts whatever the state, because the attempt was admitted before
// (a concurrent failure may have locked the member since). It locks the
// member once the failures reach the limit, never shortening a lock.
func (l LockoutOptions) fail(s lockState, now time.Time) lockState {
	if !s.last.IsZero() && now.Sub(s.last) > l.Window {
		s.failures = 0
	}
	s.failures++
	if now.After(s.last) {
		s.last = now
	}
	if s.failures >= l.MaxFailures {
		if until := now.Add(l.delay(s.failures)); until.After(s.lockedUntil) {
			s.lockedUntil = until
		}
	}
	return s
}
