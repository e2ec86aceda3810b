package storage

import (
	"context"
	"time"
)

// The roles in this file hold what decides a limit or a single use that
// used to live in each process's memory: the per-address and unknown-number
// login throttles and the one-time-password resend windows (Throttles),
// the login attempts whose hash is running (LoginAttempts), and passkey
// ceremonies and key rotations that may happen once (SingleUse). With
// several processes on one backend each of them must see the others', so
// they are storage's. storage/bolt, one process per file, keeps them in
// its own memory, where they are exact; storage/postgres keeps them in
// tables every replica reads. Apart from LeaveLogin, which a unit holds,
// none of them commits what a request's unit holds (see Units): they take
// effect at once, whatever the request has yet to store.

// Throttle is the state of one rate limit, kept under a key its owner
// chooses ("login/ip/192.0.2.1", a member number, a member and a purpose).
// Owners use the fields they need: a lockout counts failures (Count, Last)
// and locks (Until); a sliding window keeps the times of its events
// (Times, oldest first).
type Throttle struct {
	Count int
	Last  time.Time
	Until time.Time
	Times []time.Time
	// ExpiresAt is when the record stops mattering: from then on it reads
	// as the zero Throttle, and the janitor deletes it. A record stored
	// with an ExpiresAt not after now is deleted.
	ExpiresAt time.Time
}

// Expired reports whether the record no longer counts at now.
func (t Throttle) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// Throttles keeps rate-limit state. The check and the count of a limit are
// one UpdateThrottles: however many callers race, in however many
// processes, each sees the others' counts.
type Throttles interface {
	// Throttle returns the record under key as of now: the zero Throttle
	// when there is none or it has expired.
	Throttle(ctx context.Context, key string, now time.Time) (Throttle, error)
	// UpdateThrottles gives fn the records under keys (the zero Throttle
	// for one that is missing or expired at now), in the order of keys, and
	// stores what it returns, for every key together or not at all:
	// concurrent updates touching any of the keys, in any process, are
	// serialised. fn returns one record per key; it may run more than
	// once, must be pure and must not call the store; an error from it
	// aborts the update and is returned. Keys must be distinct, non-empty
	// UTF-8 without NUL.
	UpdateThrottles(ctx context.Context, now time.Time, keys []string, fn func([]Throttle) ([]Throttle, error)) error
}

// LoginFlight is a web login attempt counted in flight (LoginAttempts).
type LoginFlight struct {
	// Member is the member record read after the attempt was counted, as
	// the last write left it (never from a cache that may be stale).
	Member Member
	// Device is the device record the attempt counts against, read after
	// the count too; nil when it counts against the member.
	Device *Device
	// InFlight is how many attempts are in flight on that budget, this
	// one included.
	InFlight int
}

// LoginAttempts counts the web login attempts whose secret is being
// checked, per budget: one of a member's devices, or the member (see
// package member). A lockout must see the attempts in flight as well as
// the failures stored, or twenty guesses sent at once would all be checked
// against a limit of five. The caller stores an attempt's failure (in the
// member or device record) before it leaves; since the records come back
// read after the count, every attempt sees each earlier one either in the
// count or in the record, never in neither.
type LoginAttempts interface {
	// EnterLogin counts an attempt in flight: on the budget of deviceID
	// when it names one of the member's devices (LoginFlight.Device is
	// then set), otherwise on the member's. The count is kept until the
	// attempt leaves, or lapses: once now passes the latest until given on
	// a budget, its count starts afresh, so the attempts of a process that
	// died stop counting. ErrNotFound, counting nothing, when there is no
	// such member.
	EnterLogin(ctx context.Context, memberID, deviceID string, now, until time.Time) (LoginFlight, error)
	// LeaveLogin uncounts an attempt EnterLogin counted on the budget of
	// deviceID ("" for the member's own, as LoginFlight.Device said). A
	// unit holds it (see Units); it never fails for want of a count.
	LeaveLogin(ctx context.Context, memberID, deviceID string) error
}

// SingleUse remembers what may happen once: the finish of a passkey
// ceremony, the rotation of one generation of signing keys.
type SingleUse interface {
	// ClaimOnce claims key until expiresAt. It returns an error wrapping
	// ErrConsumed when key is claimed already and that claim has not
	// expired at now; of concurrent claims, in any number of processes,
	// exactly one wins. An expired claim may be made again, so a claim is
	// also a lease: callers choose an expiry no earlier than the end of
	// what they claim. Keys are non-empty UTF-8 without NUL.
	ClaimOnce(ctx context.Context, key string, now, expiresAt time.Time) error
}
