package contactcheck

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Channels, as storage names them.
const (
	ChannelEmail = storage.ChannelEmail
	ChannelSMS   = storage.ChannelSMS
)

// ConfirmPath is the page the link opens (the login UI's).
const ConfirmPath = "/account/contacts/received"

// RemindEvery is the least time between two reminders after login.
const RemindEvery = 30 * 24 * time.Hour

var (
	// ErrLink is every refused "received it" link: malformed, forged,
	// expired, used, replaced by a newer one, or for an address the member
	// no longer has. The member sees one message; the log says which.
	ErrLink = errors.New("contactcheck: link not valid")
	// ErrNoDestination: the member has no address (or number) for the channel.
	ErrNoDestination = errors.New("contactcheck: nothing to send to")
)

// ThrottledError is a refused send: too soon after the last, or too many
// today. RetryAfter is how long until one is allowed.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("contactcheck: test message throttled; retry in %s", e.RetryAfter)
}

// Options configure a Service.
type Options struct {
	Key          []byte // HMAC key of the links, at least 32 bytes
	BaseURL      string // the issuer; links are BaseURL + ConfirmPath
	Brand        string
	LinkTTL      time.Duration // how long a link works [72h]
	TestInterval time.Duration // least time between two sends [1m]
	TestsPerDay  int           // most sends in 24 hours [5]
	Mailer       notify.Mailer
	SMS          notify.SMSSender
	Renderer     *notify.Renderer
	Now          func() time.Time // [time.Now]
	Logger       *slog.Logger     // [slog.Default()]
}

// Service sends test messages and confirms their links.
type Service struct {
	store storage.Members
	o     Options
}

// New returns a Service on store.
func New(store storage.Members, o Options) (*Service, error) {
	if store == nil || o.Mailer == nil || o.SMS == nil || o.Renderer == nil {
		return nil, errors.New("contactcheck: store, mailer, SMS sender and renderer are required")
	}
	if len(o.Key) < 32 {
		return nil, errors.New("contactcheck: the key must be at least 32 bytes")
	}
	if o.LinkTTL <= 0 {
		o.LinkTTL = 72 * time.Hour
	}
	if o.TestInterval <= 0 {
		o.TestInterval = time.Minute
	}
	if o.TestsPerDay <= 0 {
		o.TestsPerDay = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	o.Key = slices.Clone(o.Key)
	return &Service{store: store, o: o}, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// Destination is where a test message of channel goes for m, "" when
// there is nowhere.
func Destination(m storage.Member, channel string) string {
	switch channel {
	case ChannelEmail:
		return m.Email
	case ChannelSMS:
		return m.Phone
	}
	return ""
}

// ConfirmedAt is when m last confirmed that channel's destination receives.
func ConfirmedAt(m storage.Member, channel string) time.Time {
	if channel == ChannelSMS {
		return m.PhoneConfirmedAt
	}
	return m.EmailConfirmedAt
}

// Send sends a test message to m's current destination of channel, in
// locale, with a new "received it" link (voiding the channel's previous
// one). It reserves the send against the member's throttle first, in
// storage; a send that fails still counts, so a failing destination
// cannot be used to send without limit.
func (s *Service) Send(ctx context.Context, m storage.Member, channel, locale string) error {
	dest := Destination(m, channel)
	if dest == "" {
		return ErrNoDestination
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	now := s.now()
	expiry := now.Add(s.o.LinkTTL)
	if err := s.reserve(ctx, m.ID, channel, dest, nonce, now); err != nil {
		return err
	}
	link := s.o.BaseURL + ConfirmPath + "?t=" + url.QueryEscape(s.token(m.ID, channel, dest, expiry, nonce))
	var err error
	if channel == ChannelSMS {
		err = s.o.SMS.SendSMS(ctx, notify.SMS{To: dest, Body: s.o.Renderer.SMSContactTest(locale, s.o.Brand, link), Purpose: "contact_test", Locale: locale})
	} else {
		var msg notify.Message
		msg, err = s.o.Renderer.RenderMessage(notify.KindContactTest, locale, dest, "contact_test", notify.ContactTestData{
			Brand: s.o.Brand, Address: dest, ConfirmURL: link, ValidHours: int(s.o.LinkTTL.Round(time.Hour) / time.Hour),
		})
		if err == nil {
			err = s.o.Mailer.Send(ctx, msg)
		}
	}
	if err != nil {
		return fmt.Errorf("contactcheck: send test message: %w", err)
	}
	s.o.Logger.InfoContext(ctx, "contact test message sent", "member_id", m.ID, "channel", channel)
	return nil
}

// reserve counts a send against the member's throttle and stores the
// channel's new nonce hash, in one atomic update, or refuses it.
func (s *Service) reserve(ctx context.Context, memberID, channel, dest string, nonce []byte, now time.Time) error {
	var throttled *ThrottledError
	err := s.store.UpdateMember(ctx, memberID, func(old storage.Member) (storage.Member, error) {
		throttled = nil
		if Destination(old, channel) != dest {
			return old, ErrNoDestination // changed under us: send nothing
		}
		if wait := old.ContactTestAt.Add(s.o.TestInterval).Sub(now); wait > 0 {
			throttled = &ThrottledError{RetryAfter: wait}
			return old, throttled
		}
		if now.Sub(old.ContactTestsSince) >= 24*time.Hour {
			old.ContactTestsSince, old.ContactTestCount = now, 0
		}
		if old.ContactTestCount >= s.o.TestsPerDay {
			throttled = &ThrottledError{RetryAfter: old.ContactTestsSince.Add(24 * time.Hour).Sub(now)}
			return old, throttled
		}
		old.ContactTestCount++
		old.ContactTestAt = now
		tests := map[string]string{}
		for k, v := range old.ContactTests {
			tests[k] = v
		}
		tests[channel] = nonceHash(nonce)
		old.ContactTests = tests
		return old, nil
	})
	if throttled != nil {
		return throttled
	}
	return err
}

func nonceHash(nonce []byte) string {
	sum := sha256.Sum256(nonce)
	return hex.EncodeToString(sum[:])
}

// token builds a link's token (see the package doc).
func (s *Service) token(memberID, channel, dest string, expiry time.Time, nonce []byte) string {
	exp := strconv.FormatInt(expiry.Unix(), 36)
	n := base64.RawURLEncoding.EncodeToString(nonce)
	return strings.Join([]string{memberID, channel, exp, n, s.mac(memberID, channel, exp, n, dest)}, ".")
}

func (s *Service) mac(memberID, channel, exp, nonce, dest string) string {
	h := hmac.New(sha256.New, s.o.Key)
	for _, part := range []string{"tsubasa contact check v1", memberID, channel, exp, nonce, dest} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}
