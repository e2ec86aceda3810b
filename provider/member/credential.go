package member

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"tsubasa/storage"
)

// Kinds of credential change: the reason recorded with the sessions that
// a change ends (sessions.revoked, detail reason).
const (
	ChangePassword = "password"          // the member changed it, giving the current one
	ChangeReset    = "password_reset"    // forgot password: a one-time password, then a new one
	ChangeAtLogin  = "password_at_login" // set during a login (PIN migration, forced change), stored when it completes
	ChangeOperator = "password_operator" // set by an operator (tsubasa member set-password)
	// ChangeTemporary: set by an operator as a temporary password, which
	// the member must change at the next login.
	ChangeTemporary = "password_temporary"
	// ChangeSignOut: an operator ended every session of the member.
	ChangeSignOut = "operator_sign_out"
	ChangePasskey = "passkey_removed"
	ChangeContact = "contact"  // email, mobile number or where one-time passwords go
	ChangeNotMe   = "not_me"   // the member reported a login or link as not theirs
	ByMember      = "member"   // Change.By
	ByOperator    = "operator" // Change.By
)

// ErrCredentialsChanged: the member's credentials changed after the step
// that allowed this change (a login in progress, a reset, the check of
// the current password), so it is refused rather than overwrite the
// newer one.
var ErrCredentialsChanged = errors.New("member: the member's credentials changed meanwhile")

// Change is a change of a member's credentials, for CredentialChanged.
type Change struct {
	Kind string // one of the Change… kinds
	By   string // ByMember (the default) or ByOperator
	// Guard makes the change only if the member's security stamp is still
	// Stamp, the one the step that allowed it saw (empty for a member who
	// never had one); otherwise it fails with ErrCredentialsChanged.
	Guard bool
	Stamp string
	// Where the change came from, for the audit events.
	IP, UserAgent, DeviceID string
	// Update, when set, is the change itself, applied to the member record
	// in the commit that ends the sessions. It must be pure: it may run
	// more than once.
	Update func(storage.Member) (storage.Member, error)
	// Check, when set, runs on the member as stored, in the same commit,
	// before Update: its error refuses the change (wrapped in
	// ErrPrecondition). An operator's If-Match is one. It must be pure.
	Check func(storage.Member) error
	// Events are recorded in the same commit (ID and Time are filled in).
	Events []storage.Event
}

// Ended is what a credential change ended.
type Ended struct {
	// Stamp is the member's new security stamp. A browser session the
	// caller keeps (the device the member made the change on) must carry
	// it, or it is not a login any more.
	Stamp string
	// Sessions are the SSO sessions that ended, and those that refresh
	// tokens revoked by the change descended from.
	Sessions []EndedSession
	// Tokens is how many stored tokens were deleted (refresh tokens);
	// every access token of the member issued before the change is
	// revoked too, uncounted, since they are not stored.
	Tokens int
}

// EndedSession is a session a credential change ended, with the relying
// parties given codes from it or holding refresh tokens from it: what
// back-channel logout needs.
type EndedSession struct {
	ID        string
	ClientIDs []string
}

// CredentialChanged is the one operation every change of a member's
// credentials goes through: it applies c.Update, replaces the member's
// security stamp, records c.Events and sessions.revoked, ends every
// session of the member and revokes every refresh and access token of
// the member, all in one commit (storage.CredentialChanges). Then it
// hands the ended sessions to Options.SessionsEnded.
//
// Every token goes, linked third-party apps' included: a credential
// changes because it may be known to someone else, and whatever was
// issued while it was may be in their hands. Consents stay, so an app
// the member uses signs in again without asking again.
func (s *Service) CredentialChanged(ctx context.Context, memberID string, c Change) (Ended, error) {
	if c.Kind == "" {
		return Ended{}, errors.New("member: a credential change needs a kind")
	}
	if c.By == "" {
		c.By = ByMember
	}
	stamp := newSecurityStamp()
	now := s.now()
	fn := func(old storage.Member) (storage.Member, error) {
		if c.Guard && old.SecurityStamp != c.Stamp {
			return old, ErrCredentialsChanged
		}
		if c.Check != nil {
			if err := c.Check(old); err != nil {
				return old, fmt.Errorf("%w: %w", ErrPrecondition, err)
			}
		}
		if c.Update != nil {
			var err error
			if old, err = c.Update(old); err != nil {
				return old, err
			}
		}
		old.SecurityStamp = stamp
		old.UpdatedAt = now
		return old, nil
	}
	var evs []storage.Event
	eventsFor := func(g storage.EndedGrants) []storage.Event {
		evs = make([]storage.Event, 0, len(c.Events)+1)
		for _, e := range append(slices.Clone(c.Events), storage.Event{
			Type: EventSessionsRevoked, Success: true,
			Detail: map[string]string{"scope": "all", "by": c.By, "reason": c.Kind,
				"sessions": strconv.Itoa(len(g.Sessions)), "tokens": strconv.Itoa(len(g.Tokens))},
		}) {
			e.MemberID, e.IP, e.UserAgent = memberID, c.IP, c.UserAgent
			if e.DeviceID == "" {
				e.DeviceID = c.DeviceID
			}
			evs = append(evs, s.stamp(e))
		}
		return evs
	}
	if s.opts.SessionsEnding != nil {
		s.opts.SessionsEnding(ctx, memberID)
	}
	grants, err := s.store.ChangeCredentials(ctx, memberID, fn, eventsFor)
	if err != nil {
		return Ended{}, fmt.Errorf("member: changing credentials: %w", err)
	}
	for _, e := range evs {
		s.emit(ctx, e)
	}
	ended := Ended{Stamp: stamp, Sessions: endedSessions(grants), Tokens: len(grants.Tokens)}
	s.log.InfoContext(ctx, "credentials changed; sessions ended and tokens revoked", "member_id", memberID,
		"kind", c.Kind, "by", c.By, "sessions", len(grants.Sessions), "tokens", ended.Tokens)
	if s.opts.SessionsEnded != nil && len(ended.Sessions) > 0 {
		s.opts.SessionsEnded(ctx, memberID, ended.Sessions)
	}
	return ended, nil
}

// endedSessions lists every session the change ended, and every session a
// revoked refresh token descended from (its session may have expired
// before the token), each with the clients that held tokens from it.
func endedSessions(g storage.EndedGrants) []EndedSession {
	clients := map[string][]string{}
	var order []string
	add := func(id string) {
		if _, ok := clients[id]; !ok && id != "" {
			clients[id] = nil
			order = append(order, id)
		}
	}
	for _, sess := range g.Sessions {
		// Given a code, whether or not it holds a token; under this id or
		// an earlier one of the same browser (storage.Session.Carried).
		for _, x := range append([]storage.CarriedSession{{ID: sess.ID, Clients: sess.Clients}}, sess.Carried...) {
			add(x.ID)
			for _, c := range x.Clients {
				if !slices.Contains(clients[x.ID], c) {
					clients[x.ID] = append(clients[x.ID], c)
				}
			}
		}
	}
	for _, t := range g.Tokens {
		add(t.SessionID)
		if t.SessionID != "" && !slices.Contains(clients[t.SessionID], t.ClientID) {
			clients[t.SessionID] = append(clients[t.SessionID], t.ClientID)
		}
	}
	out := make([]EndedSession, 0, len(order))
	for _, id := range order {
		cs := clients[id]
		slices.Sort(cs)
		out = append(out, EndedSession{ID: id, ClientIDs: cs})
	}
	return out
}

// ReportNotMe locks an intruder out after the member reported a login or
// link as not theirs: the member must set a new password at the next
// login, and that login owes a second factor (a one-time password, or a
// passkey) whatever the configuration says, since the intruder may know
// the password; every session and token ends (CredentialChanged).
func (s *Service) ReportNotMe(ctx context.Context, memberID string, c Change) (Ended, error) {
	c.Kind = ChangeNotMe
	c.Update = func(old storage.Member) (storage.Member, error) {
		old.MustChangePassword = true
		old.SecondFactorDue = true
		return old, nil
	}
	c.Events = append(slices.Clone(c.Events), storage.Event{Type: EventNotMeReported, Success: true})
	return s.CredentialChanged(ctx, memberID, c)
}

// passwordUpdate is the Change.Update that stores a new password hash.
// Whoever sets a password has just proved enough to do so (the current
// password, a one-time password, a complete login, an operator), so the
// login throttle, a forced change and an owed second factor are cleared.
func passwordUpdate(hash string, now time.Time) func(storage.Member) (storage.Member, error) {
	return func(old storage.Member) (storage.Member, error) {
		old = lockState{}.applyTo(old)
		old.PasswordHash = hash
		old.PasswordChangedAt = now
		old.MustChangePassword = false
		old.SecondFactorDue = false
		return old, nil
	}
}

// newSecurityStamp is 16 random bytes in hex.
func newSecurityStamp() string { return hex.EncodeToString(randomBytes(16)) }
