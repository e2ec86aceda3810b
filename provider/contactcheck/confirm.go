package contactcheck

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsubasa/storage"
)

// link is a parsed token.
type link struct {
	memberID, channel, exp, nonce, mac string
	expiry                             time.Time
	nonceBytes                         []byte
}

func parseToken(t string) (link, error) {
	f := strings.Split(t, ".")
	if len(t) > 256 || len(f) != 5 {
		return link{}, fmt.Errorf("%w: malformed", ErrLink)
	}
	l := link{memberID: f[0], channel: f[1], exp: f[2], nonce: f[3], mac: f[4]}
	n, err := strconv.ParseInt(l.exp, 36, 64)
	if err != nil || l.memberID == "" || (l.channel != ChannelEmail && l.channel != ChannelSMS) {
		return link{}, fmt.Errorf("%w: malformed", ErrLink)
	}
	if l.nonceBytes, err = base64.RawURLEncoding.DecodeString(l.nonce); err != nil || len(l.nonceBytes) != 16 {
		return link{}, fmt.Errorf("%w: malformed nonce", ErrLink)
	}
	l.expiry = time.Unix(n, 0).UTC()
	return l, nil
}

// check verifies a link against the member as stored now: the MAC over
// the current destination, the expiry, and the channel's outstanding
// nonce. It spends nothing.
func (s *Service) check(l link, m storage.Member, now time.Time) error {
	dest := Destination(m, l.channel)
	want := s.mac(l.memberID, l.channel, l.exp, l.nonce, dest)
	switch {
	case !hmac.Equal([]byte(want), []byte(l.mac)):
		return fmt.Errorf("%w: MAC differs (forged, or for another address)", ErrLink)
	case !now.Before(l.expiry):
		return fmt.Errorf("%w: expired", ErrLink)
	case dest == "":
		return fmt.Errorf("%w: no destination", ErrLink)
	}
	stored := m.ContactTests[l.channel]
	if subtle.ConstantTimeCompare([]byte(stored), []byte(nonceHash(l.nonceBytes))) != 1 {
		return fmt.Errorf("%w: used, or replaced by a newer link", ErrLink)
	}
	return nil
}

// Peek checks a link without spending it, for the page that asks for the
// click, and returns the channel and destination it confirms.
func (s *Service) Peek(ctx context.Context, token string) (channel, destination string, err error) {
	l, m, err := s.load(ctx, token)
	if err != nil {
		return "", "", err
	}
	if err := s.check(l, m, s.now()); err != nil {
		return "", "", err
	}
	return l.channel, Destination(m, l.channel), nil
}

// Confirm spends a link: in one atomic update of the member it checks the
// link and, if it holds, removes its nonce and stores the confirmation
// date of its channel. It returns the member and the channel confirmed.
func (s *Service) Confirm(ctx context.Context, token string) (storage.Member, string, error) {
	l, _, err := s.load(ctx, token)
	if err != nil {
		return storage.Member{}, "", err
	}
	now := s.now()
	var confirmed storage.Member
	err = s.store.UpdateMember(ctx, l.memberID, func(old storage.Member) (storage.Member, error) {
		if err := s.check(l, old, now); err != nil {
			return old, err
		}
		tests := map[string]string{}
		for k, v := range old.ContactTests {
			if k != l.channel {
				tests[k] = v
			}
		}
		old.ContactTests = tests
		if l.channel == ChannelSMS {
			old.PhoneConfirmedAt = now
		} else {
			old.EmailConfirmedAt = now
		}
		confirmed = old
		return old, nil
	})
	if err != nil {
		if !errors.Is(err, ErrLink) {
			return storage.Member{}, "", fmt.Errorf("contactcheck: confirm: %w", err)
		}
		s.o.Logger.InfoContext(ctx, "contact test link refused", "member_id", l.memberID, "err", err)
		return storage.Member{}, "", ErrLink
	}
	s.o.Logger.InfoContext(ctx, "contact confirmed as receiving", "member_id", confirmed.ID, "channel", l.channel)
	return confirmed, l.channel, nil
}

// load parses a token and reads its member; an unknown member is ErrLink,
// like every other refusal.
func (s *Service) load(ctx context.Context, token string) (link, storage.Member, error) {
	l, err := parseToken(token)
	if err != nil {
		s.o.Logger.InfoContext(ctx, "contact test link refused", "err", err)
		return link{}, storage.Member{}, ErrLink
	}
	m, err := s.store.MemberByID(ctx, l.memberID)
	if errors.Is(err, storage.ErrNotFound) {
		s.o.Logger.InfoContext(ctx, "contact test link refused", "err", fmt.Errorf("%w: unknown member", ErrLink))
		return link{}, storage.Member{}, ErrLink
	}
	if err != nil {
		return link{}, storage.Member{}, fmt.Errorf("contactcheck: %w", err)
	}
	return l, m, nil
}

// ReminderDue reports whether m should be asked after a login to check
// their contact: confirmEvery is on (> 0), m has a confirmed address (or,
// without one, number: RemindChannel), it was last confirmed longer ago
// than confirmEvery, and
// m was not reminded in the last RemindEvery.
func ReminderDue(m storage.Member, now time.Time, confirmEvery time.Duration) bool {
	if confirmEvery <= 0 || now.Sub(m.ContactReminderAt) < RemindEvery {
		return false
	}
	channel := RemindChannel(m)
	if channel == "" {
		return false
	}
	return now.Sub(ConfirmedAt(m, channel)) > confirmEvery
}

// RemindChannel is the contact a reminder asks about: the member's
// confirmed address, or without one their confirmed number; "" for none.
func RemindChannel(m storage.Member) string {
	switch {
	case m.Email != "" && m.EmailVerified:
		return ChannelEmail
	case m.Phone != "" && m.PhoneVerified:
		return ChannelSMS
	}
	return ""
}

// Reminded records that m was reminded now.
func (s *Service) Reminded(ctx context.Context, memberID string) error {
	now := s.now()
	return s.store.UpdateMember(ctx, memberID, func(old storage.Member) (storage.Member, error) {
		old.ContactReminderAt = now
		return old, nil
	})
}
