package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"tsubasa/storage"
)

// Channels a dev message travels on. Outbox records use storage's
// spelling: storage.ChannelEmail for mail (ChannelMail is still delivered as
// mail) and ChannelSMS, which is storage.ChannelSMS.
const (
	ChannelMail = "mail"
	ChannelSMS  = storage.ChannelSMS
)

// Message is one mail to one recipient. Text and HTML are alternatives of
// the same content; at least one must be set.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	Purpose string // "otp", "alert", "contact", ... for logs and metrics
	Locale  string // "ja" or "en"
}

// Mailer delivers one mail.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// SMS is one short message to one phone.
type SMS struct {
	To      string // E.164, e.g. +819012345678
	Body    string
	Purpose string
	Locale  string
}

// SMSSender delivers one SMS.
type SMSSender interface {
	SendSMS(ctx context.Context, s SMS) error
}

// ErrPermanent marks a delivery failure that retrying cannot fix (a
// rejected recipient, a 4xx from an SMS gateway, a malformed message).
// Every other error from this package is temporary. Test with
// errors.Is(err, ErrPermanent) or IsPermanent.
var ErrPermanent = errors.New("permanent delivery failure")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds. Drivers
// outside this package can use it to give the same signal.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ErrPermanent)
}

// IsPermanent reports whether err says retrying is pointless.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// The bodies of mail and SMS carry one-time passwords, so a Message or SMS
// that ends up in a log or a %v must never show them. These methods keep
// the routing facts and drop the content.

// LogValue implements slog.LogValuer without the subject or bodies.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.String("purpose", m.Purpose), slog.String("locale", m.Locale))
}

// String implements fmt.Stringer without the subject or bodies.
func (m Message) String() string {
	return fmt.Sprintf("notify.Message{purpose=%q locale=%q}", m.Purpose, m.Locale)
}

// GoString keeps %#v from printing the bodies too.
func (m Message) GoString() string { return m.String() }

// LogValue implements slog.LogValuer without the body.
func (s SMS) LogValue() slog.Value {
	return slog.GroupValue(slog.String("purpose", s.Purpose), slog.String("locale", s.Locale))
}

// String implements fmt.Stringer without the body.
func (s SMS) String() string {
	return fmt.Sprintf("notify.SMS{purpose=%q locale=%q}", s.Purpose, s.Locale)
}

// GoString keeps %#v from printing the body too.
func (s SMS) GoString() string { return s.String() }
