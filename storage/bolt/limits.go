package bolt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tsubasa/storage"
)

// limits is what storage.Throttles, storage.LoginAttempts and
// storage.SingleUse keep: in this process's memory, not in the file. One
// process owns the file (bbolt's lock), so every caller that could race
// is in this process, and a mutex makes each check and count one step:
// the limits are exact, and they cost a login no commit and no fsync. A
// restart forgets them, as it forgets the attempts in flight: throttle
// windows start afresh (the member and device lockouts are stored in
// their records and survive), and a passkey ceremony begun before the
// restart could be finished once more, within its five minutes, if the
// caller still held its state (the login UI deletes it from the
// server-side session, which is stored).
//
// The throttles are bounded so that a flood of distinct keys (addresses,
// numbers) cannot grow them without end: when full, what has expired is
// swept, and if the map is still full a tenth of it is dropped, which
// restarts those keys' counts: the least harm a full table can do. Counts
// in flight are bounded by the attempts running; claims by their rate
// (sweepOnce).
type limits struct {
	max int

	mu        sync.Mutex
	throttles map[string]storage.Throttle

	flightMu sync.Mutex
	flights  map[flightKey]flight

	onceMu    sync.Mutex
	once      map[string]time.Time
	lastSweep time.Time
}

// maxLimits bounds the throttles kept.
const maxLimits = 300_000

type flightKey struct{ member, device string }

type flight struct {
	n     int
	until time.Time
}

func newLimits() *limits {
	return &limits{max: maxLimits, throttles: map[string]storage.Throttle{},
		flights: map[flightKey]flight{}, once: map[string]time.Time{}}
}

// validKey refuses what the PostgreSQL backend could not store either, so
// that the backends agree.
func validKey(what, key string) error {
	if key == "" || !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return fmt.Errorf("bolt: %s: the key must be non-empty UTF-8 without NUL", what)
	}
	return nil
}

// Throttle returns the record under key as of now.
func (s *Store) Throttle(ctx context.Context, key string, now time.Time) (storage.Throttle, error) {
	if err := validKey("throttle", key); err != nil {
		return storage.Throttle{}, err
	}
	l := s.limits
	l.mu.Lock()
	t, ok := l.throttles[key]
	l.mu.Unlock()
	if !ok || t.Expired(now) {
		return storage.Throttle{}, ctx.Err()
	}
	return copyThrottle(t), ctx.Err()
}

// UpdateThrottles applies fn to the records under keys, under one lock.
func (s *Store) UpdateThrottles(ctx context.Context, now time.Time, keys []string, fn func([]storage.Throttle) ([]storage.Throttle, error)) error {
	if err := checkThrottleKeys(keys); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l := s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := make([]storage.Throttle, len(keys))
	for i, k := range keys {
		if t, ok := l.throttles[k]; ok && !t.Expired(now) {
			cur[i] = copyThrottle(t)
		}
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	if len(next) != len(keys) {
		return fmt.Errorf("bolt: update throttles: %d records for %d keys", len(next), len(keys))
	}
	for i, k := range keys {
		if next[i].Expired(now) {
			delete(l.throttles, k)
			continue
		}
		if _, ok := l.throttles[k]; !ok && len(l.throttles) >= l.max {
			l.sweepThrottles(now)
		}
		l.throttles[k] = utcThrottle(copyThrottle(next[i]))
	}
	return nil
}

func checkThrottleKeys(keys []string) error {
	if len(keys) == 0 {
		return errors.New("bolt: update throttles: no key")
	}
	for i, k := range keys {
		if err := validKey("throttle", k); err != nil {
			return err
		}
		if slices.Contains(keys[:i], k) {
			return fmt.Errorf("bolt: update throttles: key %q given twice", k)
		}
	}
	return nil
}

// sweepThrottles makes room: expired records go, then a tenth of the rest
// if the map is still full. Callers hold mu.
func (l *limits) sweepThrottles(now time.Time) {
	for k, t := range l.throttles {
		if t.Expired(now) {
			delete(l.throttles, k)
		}
	}
	target := l.max - l.max/10
	for k := range l.throttles {
		if len(l.throttles) < target {
			break
		}
		delete(l.throttles, k)
	}
}

func copyThrottle(t storage.Throttle) storage.Throttle {
	t.Times = slices.Clone(t.Times)
	return t
}

func utcThrottle(t storage.Throttle) storage.Throttle {
	t.Last, t.Until, t.ExpiresAt = t.Last.UTC(), t.Until.UTC(), t.ExpiresAt.UTC()
	for i := range t.Times {
		t.Times[i] = t.Times[i].UTC()
	}
	return t
}

// EnterLogin counts the attempt, then reads the records it needs: a
// failure written before an earlier attempt left is in the record, and an
// attempt that has not left yet is in the count (storage.LoginAttempts).
// The member cache is exact in this process: a write drops its entry
// before it returns, hence before its attempt leaves.
func (s *Store) EnterLogin(ctx context.Context, memberID, deviceID string, now, until time.Time) (storage.LoginFlight, error) {
	if deviceID != "" {
		k := flightKey{memberID, deviceID}
		n := s.limits.enter(k, now, until)
		d, err := s.DeviceByID(ctx, memberID, deviceID)
		if err == nil {
			m, err := s.MemberByID(ctx, memberID)
			if err != nil {
				s.limits.leave(k)
				return storage.LoginFlight{}, err
			}
			return storage.LoginFlight{Member: m, Device: &d, InFlight: n}, nil
		}
		s.limits.leave(k)
		if !errors.Is(err, storage.ErrNotFound) {
			return storage.LoginFlight{}, err
		}
	}
	k := flightKey{memberID, ""}
	n := s.limits.enter(k, now, until)
	m, err := s.MemberByID(ctx, memberID)
	if err != nil {
		s.limits.leave(k)
		return storage.LoginFlight{}, err
	}
	return storage.LoginFlight{Member: m, InFlight: n}, nil
}

// LeaveLogin uncounts an attempt. Nothing is written to the file, so
// there is nothing for a unit to hold: it takes effect at once.
func (s *Store) LeaveLogin(ctx context.Context, memberID, deviceID string) error {
	s.limits.leave(flightKey{memberID, deviceID})
	return ctx.Err()
}

// enter counts one attempt on k and returns the count with it. A count
// whose latest until has passed starts afresh, as the shared backend's
// does (a crashed process's attempts lapse there; here a crash forgets
// them anyway).
func (l *limits) enter(k flightKey, now, until time.Time) int {
	l.flightMu.Lock()
	defer l.flightMu.Unlock()
	f := l.flights[k]
	if !now.Before(f.until) {
		f = flight{}
	}
	f.n++
	if until.After(f.until) {
		f.until = until
	}
	l.flights[k] = f
	return f.n
}

// leave uncounts one attempt on k; the entry goes when none is left.
func (l *limits) leave(k flightKey) {
	l.flightMu.Lock()
	defer l.flightMu.Unlock()
	f, ok := l.flights[k]
	if !ok {
		return
	}
	if f.n--; f.n <= 0 {
		delete(l.flights, k)
		return
	}
	l.flights[k] = f
}

// ClaimOnce claims key until expiresAt unless a live claim holds it.
func (s *Store) ClaimOnce(ctx context.Context, key string, now, expiresAt time.Time) error {
	if err := validKey("claim", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l := s.limits
	l.onceMu.Lock()
	defer l.onceMu.Unlock()
	if now.Sub(l.lastSweep) >= time.Minute {
		l.sweepOnce(now)
	}
	if until, ok := l.once[key]; ok && now.Before(until) {
		return fmt.Errorf("bolt: claim %q: %w", key, storage.ErrConsumed)
	}
	l.once[key] = expiresAt.UTC()
	return nil
}

// sweepOnce drops expired claims; callers hold onceMu. A live claim is
// never dropped, which would let what it guards happen twice: the map is
// bounded by the claims made within their lifetimes (a passkey ceremony's
// five minutes; each needs a ceremony begun in a session first).
func (l *limits) sweepOnce(now time.Time) {
	l.lastSweep = now
	for k, t := range l.once {
		if !now.Before(t) {
			delete(l.once, k)
		}
	}
}

// deleteExpired removes what has expired at now from memory, for
// DeleteExpired, and returns how many entries went.
func (l *limits) deleteExpired(now time.Time) int {
	n := 0
	l.mu.Lock()
	for k, t := range l.throttles {
		if t.Expired(now) {
			delete(l.throttles, k)
			n++
		}
	}
	l.mu.Unlock()
	l.onceMu.Lock()
	for k, t := range l.once {
		if !now.Before(t) {
			delete(l.once, k)
			n++
		}
	}
	l.onceMu.Unlock()
	l.flightMu.Lock()
	for k, f := range l.flights {
		if !now.Before(f.until) {
			delete(l.flights, k)
			n++
		}
	}
	l.flightMu.Unlock()
	return n
}
