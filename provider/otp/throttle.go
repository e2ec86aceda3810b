package otp

import (
	"sync"
	"time"
)

// maxTracked bounds each in-memory throttle map so a flood of distinct
// members or addresses cannot grow it without end. When a map is full,
// entries that no longer matter are swept and, if it is still full, an
// arbitrary entry is dropped: that key's count restarts, which is the
// least harm a full table can do.
const maxTracked = 100_000

// hour is the window of the hourly limits.
const hour = time.Hour

// slot remembers the last send for a member and purpose. failed means its
// delivery failed, so a retry need not wait for the interval.
type slot struct {
	at     time.Time
	failed bool
}

// limiter is the resend throttle: a minimum interval per member and
// purpose, and sliding hourly windows per member and per client address.
// It lives in memory; the interval also counts from the stored challenge,
// so only the hourly windows start afresh after a restart.
type limiter struct {
	interval time.Duration
	perHour  int
	max      int

	mu      sync.Mutex
	last    map[string]slot        // member id NUL purpose
	members map[string][]time.Time // member id → send times in the last hour, oldest first
	ips     map[string][]time.Time // client address → send times
}

func newLimiter(interval time.Duration, perHour int) *limiter {
	return &limiter{
		interval: interval, perHour: perHour, max: maxTracked,
		last: make(map[string]slot), members: make(map[string][]time.Time), ips: make(map[string][]time.Time),
	}
}

func slotKey(memberID, purpose string) string { return memberID + "\x00" + purpose }

// reserve checks every limit for a send at now and, when none is hit,
// records the send. stored is when the member's current challenge for the
// purpose was created (zero when there is none, or it was used). It returns
// how long to wait, or 0 when the send may go ahead.
func (l *limiter) reserve(memberID, purpose, ip string, stored, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := slotKey(memberID, purpose)
	base := stored
	if s, ok := l.last[key]; ok {
		if s.failed {
			base = time.Time{}
		} else if s.at.After(base) {
			base = s.at
		}
	}
	var wait time.Duration
	if !base.IsZero() {
		wait = max(wait, base.Add(l.interval).Sub(now))
	}
	mt := prune(l.members[memberID], now)
	wait = max(wait, l.windowWait(mt, now))
	var it []time.Time
	if ip != "" {
		it = prune(l.ips[ip], now)
		wait = max(wait, l.windowWait(it, now))
	}
	if wait > 0 {
		return wait
	}
	l.makeRoom(now)
	l.last[key] = slot{at: now}
	l.members[memberID] = append(mt, now)
	if ip != "" {
		l.ips[ip] = append(it, now)
	}
	return 0
}

// failed waives the interval for the next send of a member and purpose,
// after a delivery failure. The hourly counts keep the attempt.
func (l *limiter) failed(memberID, purpose string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last[slotKey(memberID, purpose)] = slot{at: now, failed: true}
}

// used forgets the interval of a member and purpose once the code was
// entered: a used code should not hold up the next challenge.
func (l *limiter) used(memberID, purpose string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.last, slotKey(memberID, purpose))
}

// windowWait is how long until the window has room for one more send.
func (l *limiter) windowWait(ts []time.Time, now time.Time) time.Duration {
	if len(ts) < l.perHour {
		return 0
	}
	return ts[len(ts)-l.perHour].Add(hour).Sub(now)
}

// prune drops times that left the window. It reuses ts.
func prune(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].Add(hour).After(now) {
		i++
	}
	return ts[i:]
}

// makeRoom keeps every map below max before an insert: it sweeps what no
// longer matters and, if a map is still full, drops a tenth of it so the
// sweep is not repeated on every insert. Callers hold mu.
func (l *limiter) makeRoom(now time.Time) {
	if len(l.last) < l.max && len(l.members) < l.max && len(l.ips) < l.max {
		return
	}
	for k, s := range l.last {
		if !s.at.Add(l.interval).After(now) {
			delete(l.last, k)
		}
	}
	for _, m := range []map[string][]time.Time{l.members, l.ips} {
		for k, ts := range m {
			if len(prune(ts, now)) == 0 {
				delete(m, k)
			}
		}
	}
	target := l.max - l.max/10
	for _, m := range []map[string][]time.Time{l.members, l.ips} {
		for k := range m {
			if len(m) < target {
				break
			}
			delete(m, k)
		}
	}
	for k := range l.last {
		if len(l.last) < target {
			break
		}
		delete(l.last, k)
	}
}
