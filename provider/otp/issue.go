package otp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// IssueRequest asks for a new code.
type IssueRequest struct {
	Member  storage.Member
	Purpose string
	// Channel is ChannelEmail or ChannelSMS; "" takes the member's
	// OTPChannel when open to them, else the first of Channels (email
	// first).
	Channel string
	// Destination is, for PurposeContact only, the new address or E.164
	// number being verified; its channel is inferred when Channel is "".
	// Without it, PurposeContact verifies the member's own, unverified,
	// address or number.
	Destination string
	Locale      string // language of the mail or SMS; "" = the member's
	IP          string // client address, for the hourly limit and the audit log
}

// Issue creates a challenge for the member and purpose, replacing any
// outstanding one, and sends the code. Errors: ErrUnknownPurpose,
// ErrNoDestination, ErrChannelNotAllowed, *ResendWaitError and
// *DeliveryError; with a DeliveryError the Challenge is returned too, since
// it stays stored.
func (s *Service) Issue(ctx context.Context, req IssueRequest) (Challenge, error) {
	m := req.Member
	if m.ID == "" {
		return Challenge{}, errors.New("otp: issue: member id required")
	}
	if !slices.Contains(Purposes(), req.Purpose) {
		return Challenge{}, fmt.Errorf("%w %q", ErrUnknownPurpose, req.Purpose)
	}
	channel, dest, err := s.route(req)
	if err != nil {
		return Challenge{}, err
	}
	now := s.now()
	var stored storage.OTP
	cur, err := s.store.CurrentOTP(ctx, m.ID, req.Purpose)
	switch {
	case err == nil:
		// A code that was used (not one that was locked) does not hold up
		// the next one.
		if !cur.Consumed || cur.Attempts >= s.o.MaxAttempts {
			stored = cur
		}
	case !errors.Is(err, storage.ErrNotFound):
		return Challenge{}, fmt.Errorf("otp: issue: %w", err)
	}
	wait, err := s.limits.reserve(ctx, m.ID, req.Purpose, req.IP, stored.CreatedAt, now)
	if err != nil {
		return Challenge{}, fmt.Errorf("otp: issue: resend throttle: %w", err)
	}
	if wait > 0 {
		s.log.InfoContext(ctx, "otp resend throttled", "member_id", m.ID, "purpose", req.Purpose, "retry_after", wait)
		return Challenge{}, &ResendWaitError{RetryAfter: wait}
	}

	format := s.Format(req.Purpose)
	c, err := newCode(format, s.o.PictogramLength)
	if err != nil {
		s.limits.failed(ctx, m.ID, req.Purpose, now)
		return Challenge{}, err
	}
	rec := storage.OTP{
		ID: rand.Text(), MemberID: m.ID, Purpose: req.Purpose, Channel: channel, Destination: dest,
		Format: format, CodeHash: s.mac(req.Purpose, m.ID, c.canonical()),
		CreatedAt: now, ExpiresAt: now.Add(s.o.TTL),
	}
	locale := req.Locale
	if locale == "" {
		locale = m.Locale
	}
	locale = notify.NormalizeLocale(locale)
	// Render before storing, so a template fault leaves nothing behind.
	send, err := s.message(rec, c, locale)
	if err != nil {
		s.limits.failed(ctx, m.ID, req.Purpose, now)
		return Challenge{}, err
	}
	if err := s.store.PutOTP(ctx, rec); err != nil {
		s.limits.failed(ctx, m.ID, req.Purpose, now)
		return Challenge{}, fmt.Errorf("otp: store challenge: %w", err)
	}
	ch := s.challenge(rec)
	ev := storage.Event{Type: EventSent, MemberID: m.ID, IP: req.IP, Method: channel, Detail: detail(rec)}
	if err := send(ctx); err != nil {
		s.limits.failed(ctx, m.ID, req.Purpose, now)
		permanent := notify.IsPermanent(err)
		ev.Reason = "delivery_failed"
		s.event(ctx, ev)
		s.log.WarnContext(ctx, "otp delivery failed", "member_id", m.ID, "purpose", req.Purpose,
			"channel", channel, "permanent", permanent, "error", err)
		return ch, &DeliveryError{Channel: channel, Err: err, Permanent: permanent}
	}
	ev.Success = true
	s.event(ctx, ev)
	s.log.InfoContext(ctx, "otp sent", "member_id", m.ID, "purpose", req.Purpose, "channel", channel, "format", format)
	return ch, nil
}

// route picks the channel and destination of a request.
func (s *Service) route(req IssueRequest) (channel, dest string, err error) {
	m := req.Member
	if req.Purpose == PurposeContact {
		return s.routeContact(req)
	}
	if req.Destination != "" {
		return "", "", fmt.Errorf("%w: a destination may be given only to verify a contact", ErrChannelNotAllowed)
	}
	open := s.Channels(m)
	channel = req.Channel
	if channel == "" {
		switch {
		case slices.Contains(open, m.OTPChannel):
			channel = m.OTPChannel
		case len(open) > 0:
			channel = open[0]
		case m.Email == "" && m.Phone == "":
			return "", "", ErrNoDestination
		default:
			return "", "", ErrChannelNotAllowed
		}
	}
	switch channel {
	case ChannelEmail:
		dest = m.Email
	case ChannelSMS:
		dest = m.Phone
	default:
		return "", "", fmt.Errorf("%w: unknown channel %q", ErrChannelNotAllowed, channel)
	}
	if dest == "" {
		return "", "", ErrNoDestination
	}
	if !slices.Contains(open, channel) {
		return "", "", ErrChannelNotAllowed
	}
	return channel, dest, nil
}

// routeContact sends to the address or number being verified: the
// override, or the member's own when it is not verified yet.
func (s *Service) routeContact(req IssueRequest) (channel, dest string, err error) {
	m := req.Member
	channel, dest = req.Channel, strings.TrimSpace(req.Destination)
	if channel == "" {
		switch {
		case strings.HasPrefix(dest, "+"):
			channel = ChannelSMS
		case dest != "":
			channel = ChannelEmail
		case m.Email != "" && !m.EmailVerified:
			channel = ChannelEmail
		case m.Phone != "" && !m.PhoneVerified:
			channel = ChannelSMS
		default:
			return "", "", ErrNoDestination
		}
	}
	switch channel {
	case ChannelEmail:
		if dest == "" {
			dest = m.Email
		}
		if !plausibleEmail(dest) {
			return "", "", ErrNoDestination
		}
	case ChannelSMS:
		if dest == "" {
			dest = m.Phone
		}
		if !plausiblePhone(dest) {
			return "", "", ErrNoDestination
		}
		if !s.smsAllowed(m) {
			return "", "", ErrChannelNotAllowed
		}
		if err := s.CheckSMSNumber(dest); err != nil {
			return "", "", err
		}
	default:
		return "", "", fmt.Errorf("%w: unknown channel %q", ErrChannelNotAllowed, channel)
	}
	return channel, dest, nil
}

// plausibleEmail is a last check on an address the caller has parsed
// (member.ParseEmail): one @, something on each side, no spaces or line
// breaks that could reach a mail header.
func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@") &&
		!strings.ContainsAny(s, " \t\r\n<>,;\"")
}

// plausiblePhone accepts E.164: + and 8 to 15 digits, the first not 0.
func plausiblePhone(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return isDigits(s[1:])
}
