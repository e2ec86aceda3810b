package member

import (
	"context"
	"sync"
	"time"

	"tsubasa/storage"
)

// maxTracked bounds the in-memory throttling maps (addresses, unknown
// numbers) so a flood of distinct keys cannot grow them without end. When
// full, expired entries are swept and, if still full, an arbitrary entry is
// dropped: a dropped attacker entry only restarts that key's count.
const maxTracked = 100_000

// lockState is the per-member web throttle, kept in the member record for
// members and in memory for unknown numbers, with the same rules for both
// so a throttled answer does not tell whether a number exists.
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

// stale reports whether an entry no longer influences any answer.
func (l LockoutOptions) stale(s lockState, now time.Time) bool {
	return !now.Before(s.lockedUntil) && now.Sub(s.last) > l.Window
}

// unknownNumbers throttles well-formed numbers that belong to no member,
// exactly as member records are throttled.
type unknownNumbers struct {
	opts LockoutOptions
	mu   sync.Mutex
	m    map[string]lockState
}

func (u *unknownNumbers) reserve(number string, now time.Time) time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]lockState{}
	}
	s, ok := u.m[number]
	if !ok && len(u.m) >= maxTracked {
		for k, v := range u.m {
			if u.opts.stale(v, now) {
				delete(u.m, k)
			}
		}
		for k := range u.m {
			if len(u.m) < maxTracked {
				break
			}
			delete(u.m, k)
		}
	}
	s, retry := u.opts.reserve(s, now)
	if retry == 0 {
		u.m[number] = s
	}
	return retry
}

// ipWindow is a sliding window of failed attempts per client address.
//
// An attempt reserves a place before its secret is checked and gives it
// back when it succeeds (release), so only failures stay in the window. The
// limit compares the settled attempts alone: one address with many
// concurrent, successful logins (a NAT or a corporate proxy) is not refused
// for attempts still in flight. The price is a bounded overshoot: attempts
// admitted together while the address was under its limit may all fail,
// but no more run at once than the hash limiter admits, and the per-member
// lockout, counted before each check, stays exact.
type ipWindow struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	m      map[string]*ipAttempts
}

type ipAttempts struct {
	at       []time.Time // reservations in the window, oldest first
	inFlight int         // of which not yet settled
}

// reserve records an attempt from ip at now, or returns how long until the
// oldest failure in the window expires when the address is at its limit.
// Every reservation must be settled once (settle), whatever the outcome.
// An empty ip (a command-line caller) is never limited.
func (w *ipWindow) reserve(ip string, now time.Time) time.Duration {
	if ip == "" || w.max <= 0 {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]*ipAttempts{}
	}
	e := w.m[ip]
	if e == nil {
		if len(w.m) >= maxTracked {
			w.sweep(now)
		}
		e = &ipAttempts{}
		w.m[ip] = e
	}
	e.at = w.prune(e.at, now)
	if settled := len(e.at) - e.inFlight; settled >= w.max {
		return e.at[0].Add(w.window).Sub(now)
	}
	e.at = append(e.at, now)
	e.inFlight++
	return 0
}

// settle marks the reservation made for ip as decided; a failure stays in
// the window, a success was removed by release first.
func (w *ipWindow) settle(ip string) {
	if ip == "" || w.max <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.m[ip]; e != nil {
		if e.inFlight > 0 {
			e.inFlight--
		}
		if len(e.at) == 0 && e.inFlight == 0 {
			delete(w.m, ip)
		}
	}
}

// release removes the reservation made at t by an attempt that succeeded
// (or was not an attempt at all: busy, storage failure). Call settle too.
func (w *ipWindow) release(ip string, t time.Time) {
	if ip == "" || w.max <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.m[ip]
	if e == nil {
		return
	}
	for i := range e.at {
		if e.at[i].Equal(t) {
			e.at = append(e.at[:i:i], e.at[i+1:]...)
			break
		}
	}
}

func (w *ipWindow) prune(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= w.window {
		i++
	}
	return ts[i:]
}

// sweep drops addresses with nothing in their window and nothing in
// flight, then arbitrary idle ones while the map is still full.
func (w *ipWindow) sweep(now time.Time) {
	for k, e := range w.m {
		if e.at = w.prune(e.at, now); len(e.at) == 0 && e.inFlight == 0 {
			delete(w.m, k)
		}
	}
	for k, e := range w.m {
		if len(w.m) < maxTracked {
			break
		}
		if e.inFlight == 0 {
			delete(w.m, k)
		}
	}
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
