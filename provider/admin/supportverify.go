package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// SupportOptions are admin.support.
type SupportOptions struct {
	// Require makes the sensitive support operations, called over the
	// HTTP API, require a verified support session (requireSupport).
	Require       bool
	VerifiedFor   time.Duration // [15m]
	MaxAttempts   int           // entries per session [5]
	VerifyPerHour int           // entries per member and hour [10]
}

func (o SupportOptions) withDefaults() SupportOptions {
	if o.VerifiedFor <= 0 {
		o.VerifiedFor = 15 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.VerifyPerHour <= 0 {
		o.VerifyPerHour = 10
	}
	return o
}

// verifySupport checks the code the member read back. The entry is
// counted on the session first (an entry past MaxAttempts is refused
// before any comparison), and on the member's hourly budget; only then is
// the code compared, in constant time, against the session's own
// challenge, which is consumed when it matches.
func (s *Service) verifySupport(ctx context.Context, in adminapi.SupportVerifyInput) (adminapi.SupportSessionView, error) {
	code := strings.TrimSpace(in.Code)
	if code == "" {
		return adminapi.SupportSessionView{}, adminapi.Invalid("code", "enter the code the member read back")
	}
	m, ss, err := s.supportSession(ctx, in.Number, in.ID)
	if err != nil {
		return adminapi.SupportSessionView{}, err
	}
	now := s.now()
	// A session that takes no more codes says so without spending the
	// member's hourly entries (Enter in the update below decides).
	if _, err := ss.Enter(now); err != nil {
		return adminapi.SupportSessionView{}, s.sessionEnded(ctx, m, ss, err)
	}
	if err := s.supportBudget(ctx, m); err != nil {
		return adminapi.SupportSessionView{}, err
	}
	err = s.store.UpdateSupportSession(ctx, ss.ID, func(cur storage.SupportSession) (storage.SupportSession, error) {
		cur, err := cur.Enter(now)
		ss = cur
		return cur, err
	})
	if err != nil {
		return adminapi.SupportSessionView{}, s.sessionEnded(ctx, m, ss, err)
	}
	_, err = s.otp.VerifyChallenge(ctx, m.ID, otp.PurposeSupport, ss.ChallengeID, code, callerOf(ctx).IP)
	if err == nil {
		err = s.store.UpdateSupportSession(ctx, ss.ID, func(cur storage.SupportSession) (storage.SupportSession, error) {
			cur, err := cur.Verify(now, s.support.VerifiedFor)
			ss = cur
			return cur, err
		})
		if err != nil {
			return adminapi.SupportSessionView{}, s.sessionEnded(ctx, m, ss, err)
		}
		s.supportEvent(ctx, EventSupportVerified, ss, true, "")
		s.log.InfoContext(ctx, "support session verified", "support_session", ss.ID, "member_id", m.ID)
		return s.supportView(m, ss), nil
	}
	return adminapi.SupportSessionView{}, s.wrongCode(ctx, m, ss, err)
}

// wrongCode records a failed entry and words it: the code was wrong (with
// the entries left), or the session's challenge can no longer pass.
func (s *Service) wrongCode(ctx context.Context, m storage.Member, ss storage.SupportSession, verr error) error {
	var ice *otp.InvalidCodeError
	reason := "invalid_code"
	switch {
	case errors.As(verr, &ice):
	case errors.Is(verr, otp.ErrNoChallenge):
		reason = "superseded" // a newer session of the member replaced its code
	case errors.Is(verr, otp.ErrExpired):
		reason = "expired"
	case errors.Is(verr, otp.ErrConsumed):
		// A concurrent entry of the right code won: that entry verifies
		// the session, this one changes nothing.
		return s.sessionEnded(ctx, m, ss, storage.ErrConsumed)
	case errors.Is(verr, otp.ErrTooManyAttempts):
		reason = "too_many_attempts"
	default:
		return fmt.Errorf("support code: %w", verr)
	}
	err := s.store.UpdateSupportSession(ctx, ss.ID, func(cur storage.SupportSession) (storage.SupportSession, error) {
		if reason != "invalid_code" && cur.State == storage.SupportPending {
			cur.Attempts = cur.MaxAttempts // its code can never pass: the session ends
		}
		ss = cur.Fail()
		return ss, nil
	})
	if err != nil {
		return fmt.Errorf("recording a wrong support code: %w", err)
	}
	typ := EventSupportFailed
	if reason == "expired" {
		typ = EventSupportExpired
	}
	s.supportEvent(ctx, typ, ss, false, reason)
	s.log.WarnContext(ctx, "support code refused", "support_session", ss.ID, "member_id", m.ID, "reason", reason, "attempts", ss.Attempts)
	if ss.State == storage.SupportPending {
		return supportError(adminapi.ProblemSupportCodeInvalid, http.StatusBadRequest, "code",
			"that is not the code sent to member %s for this session; %d entries left", m.Number, ss.MaxAttempts-ss.Attempts)
	}
	return s.sessionEnded(ctx, m, ss, storage.ErrSupportAttempts)
}

// sessionEnded words a session that takes no more codes, recording its
// expiry when that is what ended it.
func (s *Service) sessionEnded(ctx context.Context, m storage.Member, ss storage.SupportSession, err error) error {
	var why string
	switch {
	case errors.Is(err, storage.ErrSupportExpired):
		s.supportEvent(ctx, EventSupportExpired, ss, false, "expired")
		why = "its code expired"
	case errors.Is(err, storage.ErrSupportAttempts), ss.State == storage.SupportFailed:
		why = "it is out of attempts, or a newer session replaced its code"
	case errors.Is(err, storage.ErrConsumed):
		why = "it is verified already"
	default:
		return fmt.Errorf("support session: %w", err)
	}
	return supportError(adminapi.ProblemSupportSessionEnded, http.StatusConflict, "id",
		"support session %s of member %s takes no more codes: %s; start a new one if needed", ss.ID, m.Number, why)
}

// supportBudget counts one entry on the member's hourly budget, shared by
// every session, agent and replica (a storage throttle), or refuses it.
func (s *Service) supportBudget(ctx context.Context, m storage.Member) error {
	now := s.now()
	var wait time.Duration
	err := s.store.UpdateThrottles(ctx, now, []string{"support/verify/" + m.ID}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
		wait = 0
		var times []time.Time
		for _, t := range ts[0].Times {
			if now.Sub(t) < time.Hour {
				times = append(times, t)
			}
		}
		if len(times) >= s.support.VerifyPerHour {
			wait = times[len(times)-s.support.VerifyPerHour].Add(time.Hour).Sub(now)
			return nil, errSupportBudget
		}
		return []storage.Throttle{{Times: append(times, now), ExpiresAt: now.Add(time.Hour)}}, nil
	})
	if errors.Is(err, errSupportBudget) {
		s.log.WarnContext(ctx, "support code entries limited", "member_id", m.ID, "retry_after", wait)
		return supportError(adminapi.ProblemSupportLimited, http.StatusTooManyRequests, "",
			"too many support codes were entered for member %s this hour: try again in %d minutes", m.Number, int(wait.Minutes())+1)
	}
	return err
}

var errSupportBudget = errors.New("support: hourly entries spent")

// requireSupport refuses a sensitive support operation on m, called over
// the HTTP API, unless id names a support session that proves, now, that
// m is on the line with the calling client and agent. Operators of the
// admin socket and the CLI's direct mode hold the database itself, so a
// session would prove nothing more for them.
func (s *Service) requireSupport(ctx context.Context, m storage.Member, id string) error {
	c := callerOf(ctx)
	if !s.support.Require || c.ClientID == "" {
		return nil
	}
	how := "start a support session for the member (POST " + adminapi.Prefix + "/members/{number}/support-sessions), have the member read back the code, verify it, and name it in support_session"
	if strings.TrimSpace(id) == "" {
		return supportError(adminapi.ProblemSupportSessionRequired, http.StatusForbidden, "support_session",
			"changing member %s's credentials needs a verified support session: %s", m.Number, how)
	}
	ss, err := s.store.SupportSessionByID(ctx, strings.TrimSpace(id))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("reading support session: %w", err)
	}
	now := s.now()
	if err == nil && ss.ClientID == c.ClientID && ss.Agent == c.Agent && ss.Proves(m.ID, now) {
		return nil
	}
	if err == nil && ss.State == storage.SupportVerified && ss.MemberID == m.ID && !now.Before(ss.VerifiedUntil) {
		s.supportEvent(ctx, EventSupportExpired, ss, false, "verified_window_lapsed")
	}
	return supportError(adminapi.ProblemSupportSessionRequired, http.StatusForbidden, "support_session",
		"support_session is not a support session of member %s verified by this client and agent in the last %s: %s",
		m.Number, s.support.VerifiedFor, how)
}
