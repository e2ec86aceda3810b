package storage

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Member support sessions (provider/admin): a call centre's agent proves
// that the member is on the line by having the member read back a one-time
// code sent to the member's own verified channel. The code itself is an
// OTP challenge (purpose "support", see package otp) named by ChallengeID;
// this record holds the session's state, which decides whether the agent
// may perform a sensitive support operation, so it is storage's: every
// replica sees the same attempts, the same single verification and the
// same expiry.

// Support session states. A session moves
//
//	pending ──Enter (an entry counted, Attempts < MaxAttempts)──> pending
//	pending ──Verify (the right code)────────────────────────────> verified
//	pending ──Fail at MaxAttempts────────────────────────────────> failed
//	pending ──ExpiresAt passes───────────────────────────────────> (expired, refused)
//	verified ──VerifiedUntil passes──────────────────────────────> (lapsed, refused)
//
// and never back: a verified or failed session takes no further entry.
const (
	SupportPending  = "pending"
	SupportVerified = "verified"
	SupportFailed   = "failed"
)

// Errors of the support session state machine, wrapped by the backends'
// updates as the function returns them.
var (
	// ErrSupportExpired: the pending session's code expired, or the
	// verified session's window lapsed.
	ErrSupportExpired = errors.New("storage: support session expired")
	// ErrSupportAttempts: the session took its last entry.
	ErrSupportAttempts = errors.New("storage: support session out of attempts")
)

// SupportSession is an agent's support session with a member.
type SupportSession struct {
	ID       string
	MemberID string
	ClientID string // the admin API client that started it
	Agent    string // the agent the client named (X-Tsubasa-Agent)
	// ChallengeID is the OTP challenge that carries the code: only that
	// challenge verifies this session, never a newer one of the member.
	ChallengeID string
	Channel     string // ChannelEmail or ChannelSMS
	Masked      string // the destination as the agent may see it
	State       string
	Attempts    int // entries made, right or wrong
	MaxAttempts int
	CreatedAt   time.Time
	// ExpiresAt ends a pending session (its code's lifetime); a verified
	// one lasts until VerifiedUntil. The janitor deletes the record at
	// the later of the two.
	ExpiresAt     time.Time
	VerifiedAt    time.Time
	VerifiedUntil time.Time
}

// Enter counts one entry of a code at now: the session must be pending,
// unexpired and have an attempt left. The caller compares the code only
// after the count is stored, so that concurrent guesses cannot exceed
// MaxAttempts.
func (s SupportSession) Enter(now time.Time) (SupportSession, error) {
	switch {
	case s.State != SupportPending:
		return s, ErrConsumed
	case !now.Before(s.ExpiresAt):
		return s, ErrSupportExpired
	case s.Attempts >= s.MaxAttempts:
		return s, ErrSupportAttempts
	}
	s.Attempts++
	return s, nil
}

// Verify marks a pending session verified at now for the window d; a
// session that is not pending any more returns ErrConsumed (a code
// verifies a session once).
func (s SupportSession) Verify(now time.Time, d time.Duration) (SupportSession, error) {
	if s.State != SupportPending {
		return s, ErrConsumed
	}
	if !now.Before(s.ExpiresAt) {
		return s, ErrSupportExpired
	}
	s.State, s.VerifiedAt, s.VerifiedUntil = SupportVerified, now, now.Add(d)
	return s, nil
}

// Fail records a wrong entry: at MaxAttempts the session fails for good.
// A session that is not pending stays as it is.
func (s SupportSession) Fail() SupportSession {
	if s.State == SupportPending && s.Attempts >= s.MaxAttempts {
		s.State = SupportFailed
	}
	return s
}

// Proves reports whether the session proves, at now, that memberID's
// member is on the line: verified, for that member, within its window.
func (s SupportSession) Proves(memberID string, now time.Time) bool {
	return s.State == SupportVerified && s.MemberID == memberID && now.Before(s.VerifiedUntil)
}

// Until is when the record stops mattering (the janitor's time).
func (s SupportSession) Until() time.Time {
	if s.VerifiedUntil.After(s.ExpiresAt) {
		return s.VerifiedUntil
	}
	return s.ExpiresAt
}

// LogValue names the session without its destination.
func (s SupportSession) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("member_id", s.MemberID), slog.String("state", s.State))
}

// SupportSessions stores support sessions.
type SupportSessions interface {
	// CreateSupportSession stores a new session; ErrAlreadyExists when its
	// id is taken.
	CreateSupportSession(ctx context.Context, s SupportSession) error
	// SupportSessionByID returns a session, even one past its expiry
	// (until the janitor deletes it at Until).
	SupportSessionByID(ctx context.Context, id string) (SupportSession, error)
	// UpdateSupportSession applies fn to the session atomically: however
	// many callers race, in however many processes, each fn sees the
	// others' results. ErrNotFound when there is none; an error from fn
	// changes nothing and is returned.
	UpdateSupportSession(ctx context.Context, id string, fn func(SupportSession) (SupportSession, error)) error
}
