package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// Member support sessions: the proof, before an agent changes a member's
// credentials, that the member is the one on the line. The code is an OTP
// challenge of its own purpose (otp.PurposeSupport) on the member's own
// verified channel; the session (storage.SupportSessions) counts every
// entry before the code is compared, so concurrent guesses on any replica
// cannot pass MaxAttempts, and the member's hourly entries across every
// session are a storage throttle too. See storage/support.go for the
// state machine.

// Audit event types of support sessions, each naming the admin client and
// the agent; never the code.
const (
	EventSupportStarted  = "support.started"
	EventSupportVerified = "support.verified"
	EventSupportFailed   = "support.failed"
	EventSupportExpired  = "support.expired"
)

func supportError(problem string, status int, field, format string, args ...any) *adminapi.Error {
	return &adminapi.Error{Status: status, Problem: problem, Field: field, Message: fmt.Sprintf(format, args...)}
}

// startSupport sends the member a support code and stores the session.
func (s *Service) startSupport(ctx context.Context, in adminapi.SupportStartInput) (adminapi.SupportSessionView, error) {
	if s.otp == nil {
		return adminapi.SupportSessionView{}, adminapi.Unsupported("support sessions need the one-time password service, which this process does not run")
	}
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.SupportSessionView{}, err
	}
	if m.Status == storage.MemberDisabled {
		return adminapi.SupportSessionView{}, adminapi.Conflict("number", "member %s is disabled: enable it first", m.Number)
	}
	ch, err := s.otp.Issue(ctx, otp.IssueRequest{Member: m, Purpose: otp.PurposeSupport})
	if err != nil {
		return adminapi.SupportSessionView{}, issueError(m, err)
	}
	c, now := callerOf(ctx), s.now()
	ss := storage.SupportSession{
		ID: rand.Text(), MemberID: m.ID, ClientID: c.ClientID, Agent: c.Agent, ChallengeID: ch.ID,
		Channel: ch.Channel, Masked: ch.MaskedDestination, State: storage.SupportPending,
		MaxAttempts: s.support.MaxAttempts, CreatedAt: now, ExpiresAt: ch.ExpiresAt,
	}
	if err := s.store.CreateSupportSession(ctx, ss); err != nil {
		return adminapi.SupportSessionView{}, fmt.Errorf("storing support session: %w", err)
	}
	s.supportEvent(ctx, EventSupportStarted, ss, true, "")
	s.log.InfoContext(ctx, "support session started", "support_session", ss.ID, "member_id", m.ID,
		"channel", ss.Channel, "admin_client", c.ClientID, "agent", c.Agent)
	return s.supportView(m, ss), nil
}

// issueError words a failure to send a support code for the operator.
func issueError(m storage.Member, err error) error {
	var wait *otp.ResendWaitError
	var de *otp.DeliveryError
	switch {
	case errors.As(err, &wait):
		return supportError(adminapi.ProblemSupportLimited, http.StatusTooManyRequests, "",
			"a code was sent to member %s too recently, or too often this hour: try again in %d seconds", m.Number, int(wait.RetryAfter.Seconds())+1)
	case errors.As(err, &de):
		return supportError(adminapi.ProblemSupportUndelivered, http.StatusServiceUnavailable, "",
			"the %s with the code could not be delivered to member %s; try again in a moment", de.Channel, m.Number)
	case errors.Is(err, otp.ErrNoDestination), errors.Is(err, otp.ErrChannelNotAllowed):
		return adminapi.Conflict("number", "member %s has no verified email address or mobile number a code may go to; a support session cannot prove who is calling", m.Number)
	}
	return err
}

// showSupport reads a session of the member.
func (s *Service) showSupport(ctx context.Context, in adminapi.SupportSessionInput) (adminapi.SupportSessionView, error) {
	m, ss, err := s.supportSession(ctx, in.Number, in.ID)
	if err != nil {
		return adminapi.SupportSessionView{}, err
	}
	return s.supportView(m, ss), nil
}

// supportSession finds the session id of the member named by number, as
// started by the caller's client and agent: any other session, of another
// member or of another caller, is "not found", as is an unknown id.
func (s *Service) supportSession(ctx context.Context, number, id string) (storage.Member, storage.SupportSession, error) {
	m, err := s.memberByNumber(ctx, number)
	if err != nil {
		return m, storage.SupportSession{}, err
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return m, storage.SupportSession{}, adminapi.Invalid("id", "name the support session")
	}
	ss, err := s.store.SupportSessionByID(ctx, id)
	c := callerOf(ctx)
	if errors.Is(err, storage.ErrNotFound) || err == nil && (ss.MemberID != m.ID || ss.ClientID != c.ClientID || ss.Agent != c.Agent) {
		return m, ss, adminapi.NotFound("member %s has no support session %q of this client and agent", m.Number, id)
	}
	return m, ss, err
}

// supportView is what the agent sees of a session at now.
func (s *Service) supportView(m storage.Member, ss storage.SupportSession) adminapi.SupportSessionView {
	now := s.now()
	state := ss.State
	switch {
	case ss.State == storage.SupportPending && !now.Before(ss.ExpiresAt),
		ss.State == storage.SupportVerified && !now.Before(ss.VerifiedUntil):
		state = adminapi.SupportExpired
	}
	left := 0
	if ss.State == storage.SupportPending {
		left = max(0, ss.MaxAttempts-ss.Attempts)
	}
	return adminapi.SupportSessionView{ID: ss.ID, Number: m.Number, State: state, Channel: ss.Channel, Destination: ss.Masked,
		Agent: ss.Agent, AttemptsLeft: left, CreatedAt: ss.CreatedAt, ExpiresAt: ss.ExpiresAt, VerifiedUntil: ss.VerifiedUntil}
}

// supportEvent records an event of a session under its member.
func (s *Service) supportEvent(ctx context.Context, typ string, ss storage.SupportSession, ok bool, reason string) {
	s.event(ctx, storage.Event{Type: typ, MemberID: ss.MemberID, ClientID: callerOf(ctx).ClientID, Success: ok, Method: ss.Channel, Reason: reason,
		Detail: map[string]string{"support_session": ss.ID, "destination": ss.Masked}})
}
