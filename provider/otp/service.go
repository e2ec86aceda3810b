package otp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"tsubasa/provider/clientaddr"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Purposes a challenge is bound to. A code issued for one purpose never
// passes for another.
const (
	PurposeLogin   = "login"
	PurposeStepUp  = "step_up"
	PurposeContact = "contact"
	PurposePasskey = "passkey"
	PurposeReset   = "reset"
	// PurposeSupport is a code the member reads back to a support agent
	// (provider/admin's support sessions): always six digits, which read
	// aloud without ambiguity, and its own mail and SMS wording.
	PurposeSupport = "support"
)

// Delivery channels (the storage values, repeated for callers' convenience).
const (
	ChannelEmail = storage.ChannelEmail
	ChannelSMS   = storage.ChannelSMS
)

// Audit event types written by the Service. Method is the channel; Detail
// holds purpose, format and the masked destination, never the code.
// Reason on failures: delivery_failed (otp.sent), invalid_code, expired,
// consumed, too_many_attempts. Entries that compare nothing (no challenge,
// malformed input) are not recorded.
const (
	EventSent     = "otp.sent" // Success false when delivery failed
	EventVerified = "otp.verified"
	EventFailed   = "otp.failed" // a wrong code, or an entry against a spent challenge
	EventLocked   = "otp.locked" // the wrong entry that ended the challenge
)

// Purposes lists every purpose.
func Purposes() []string {
	return []string{PurposeLogin, PurposeStepUp, PurposeContact, PurposePasskey, PurposeReset, PurposeSupport}
}

// Store is the storage a Service needs.
type Store interface {
	storage.OTPs
	storage.Events
	storage.Throttles // the resend throttle, shared by every replica
}

// Options configures a Service. Zero fields take the defaults in brackets.
type Options struct {
	TTL            time.Duration // lifetime of a code [10m]
	MaxAttempts    int           // wrong entries that end a challenge [5]
	ResendPerHour  int           // sends per hour, per member and per client address [10]
	ResendInterval time.Duration // least time between two sends for a member and purpose [60s]
	// IPv6Prefix is the network an IPv6 client's sends count under in the
	// per-address hourly limit (clientaddr.LimitKey) [64].
	IPv6Prefix int
	// Formats maps a purpose to FormatDigits or FormatPictogram; purposes
	// left out use digits.
	Formats         map[string]string
	PictogramLength int // pictograms per code [4]; the code space must reach 1,000,000
	// SMSCountries (ISO 3166 alpha-2) are where SMS may go: the member
	// must live in one of them, and the number itself must belong to one
	// (and be a mobile number; see notify.SMSPolicy). nil means [JP]; an
	// empty, non-nil slice turns SMS off.
	SMSCountries []string
	HMACKey      []byte // required, at least 32 bytes
	Brand        string // shown in mail and SMS ["Tsubasa"]
	Now          func() time.Time
	Logger       *slog.Logger // default: discard
}

// Service issues and verifies one-time passwords. It is safe for
// concurrent use.
type Service struct {
	store     Store
	mail      notify.Mailer
	sms       notify.SMSSender
	render    *notify.Renderer
	o         Options
	key       []byte
	countries map[string]bool
	numbers   notify.SMSPolicy // which numbers may receive SMS
	log       *slog.Logger
	limits    *limiter
}

// NewService checks o and returns a Service. sms may be nil (no SMS
// driver): SMS is then never offered. Every problem is reported at once.
func NewService(store Store, mail notify.Mailer, sms notify.SMSSender, r *notify.Renderer, o Options) (*Service, error) {
	var errs []error
	if store == nil {
		errs = append(errs, errors.New("a store is required"))
	}
	if mail == nil {
		errs = append(errs, errors.New("a mailer is required"))
	}
	if r == nil {
		errs = append(errs, errors.New("a mail renderer is required"))
	}
	o = withDefaults(o)
	if len(o.HMACKey) < 32 {
		errs = append(errs, errors.New("the HMAC key must be at least 32 bytes"))
	}
	if o.TTL < 0 || o.ResendInterval < 0 || o.MaxAttempts < 0 || o.ResendPerHour < 0 {
		errs = append(errs, errors.New("durations and counts must not be negative"))
	}
	for _, p := range slices.Sorted(maps.Keys(o.Formats)) {
		if !slices.Contains(Purposes(), p) {
			errs = append(errs, fmt.Errorf("formats: unknown purpose %q", p))
		} else if f := o.Formats[p]; f != FormatDigits && f != FormatPictogram {
			errs = append(errs, fmt.Errorf("formats.%s: %q is neither %s nor %s", p, f, FormatDigits, FormatPictogram))
		}
	}
	if o.PictogramLength > maxPictogramLength {
		errs = append(errs, fmt.Errorf("pictogram length %d is above %d", o.PictogramLength, maxPictogramLength))
	} else if c := combinations(FormatPictogram, o.PictogramLength); c < minCombinations {
		errs = append(errs, fmt.Errorf("pictogram length %d gives %.0f combinations of %d pictograms, fewer than %d; use %d or more",
			o.PictogramLength, c, len(pictograms), minCombinations, minPictogramLength()))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otp: %w", err)
	}
	countries := make(map[string]bool)
	for _, c := range o.SMSCountries {
		countries[strings.ToUpper(strings.TrimSpace(c))] = true
	}
	return &Service{
		store: store, mail: mail, sms: sms, render: r, o: o,
		key: append([]byte(nil), o.HMACKey...), countries: countries, numbers: notify.NewSMSPolicy(o.SMSCountries), log: o.Logger,
		limits: newLimiter(store, o),
	}, nil
}

func withDefaults(o Options) Options {
	if o.TTL == 0 {
		o.TTL = 10 * time.Minute
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 5
	}
	if o.ResendPerHour == 0 {
		o.ResendPerHour = 10
	}
	if o.ResendInterval == 0 {
		o.ResendInterval = time.Minute
	}
	if o.IPv6Prefix == 0 {
		o.IPv6Prefix = clientaddr.DefaultIPv6Prefix
	}
	if o.PictogramLength == 0 {
		o.PictogramLength = 4
	}
	if o.SMSCountries == nil {
		o.SMSCountries = []string{"JP"}
	}
	if o.Brand == "" {
		o.Brand = "Tsubasa"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Formats = maps.Clone(o.Formats)
	return o
}

// minPictogramLength is the shortest pictogram code that reaches
// minCombinations.
func minPictogramLength() int {
	n := 1
	for combinations(FormatPictogram, n) < minCombinations {
		n++
	}
	return n
}

// Format returns the code format configured for purpose.
func (s *Service) Format(purpose string) string {
	if s.o.Formats[purpose] == FormatPictogram && purpose != PurposeSupport {
		return FormatPictogram
	}
	return FormatDigits
}

// Length is the number of digits or pictograms of a code of format.
func (s *Service) Length(format string) int {
	if format == FormatPictogram {
		return s.o.PictogramLength
	}
	return DigitsLength
}

// Challenge describes an issued code without the code, for the entry page.
type Challenge struct {
	ID                string
	Purpose           string
	Channel           string // ChannelEmail or ChannelSMS
	Format            string // FormatDigits or FormatPictogram
	MaskedDestination string // h***@example.com, +81 90-****-5678
	ExpiresAt         time.Time
	Length            int // digits or pictograms to enter
}

func (s *Service) challenge(o storage.OTP) Challenge {
	return Challenge{
		ID: o.ID, Purpose: o.Purpose, Channel: o.Channel, Format: o.Format,
		MaskedDestination: MaskDestination(o.Channel, o.Destination),
		ExpiresAt:         o.ExpiresAt, Length: s.Length(o.Format),
	}
}

// Current returns the member's challenge for purpose, for re-rendering the
// entry page: ErrNoChallenge when there is none. A challenge that can no
// longer be answered comes back filled in, with ErrExpired, ErrConsumed or
// ErrTooManyAttempts, so the page can offer a new code to the same place.
func (s *Service) Current(ctx context.Context, memberID, purpose string) (Challenge, error) {
	o, err := s.store.CurrentOTP(ctx, memberID, purpose)
	if errors.Is(err, storage.ErrNotFound) {
		return Challenge{}, ErrNoChallenge
	}
	if err != nil {
		return Challenge{}, fmt.Errorf("otp: current challenge: %w", err)
	}
	return s.challenge(o), s.state(o, s.now())
}

// state is why a stored challenge can no longer be answered, or nil.
func (s *Service) state(o storage.OTP, now time.Time) error {
	switch {
	case o.Attempts >= s.o.MaxAttempts:
		return ErrTooManyAttempts
	case o.Consumed:
		return ErrConsumed
	case o.Expired(now):
		return ErrExpired
	}
	return nil
}

// Channels returns the channels a member may receive codes on, the
// member's preferred one first: email with a verified address, SMS with a
// verified number that may receive SMS (CheckSMSNumber), a country of
// residence in Options.SMSCountries and an SMS driver. PurposeContact also
// accepts the address being verified; see IssueRequest.
func (s *Service) Channels(m storage.Member) []string {
	var out []string
	if m.Email != "" && m.EmailVerified {
		out = append(out, ChannelEmail)
	}
	if m.Phone != "" && m.PhoneVerified && s.smsAllowed(m) && s.numbers.Check(m.Phone) == nil {
		out = append(out, ChannelSMS)
	}
	if len(out) == 2 && m.OTPChannel == ChannelSMS {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

func (s *Service) smsAllowed(m storage.Member) bool {
	return s.sms != nil && s.countries[strings.ToUpper(m.Country)]
}

// CheckSMSNumber returns nil when SMS may go to the number (E.164): it
// belongs to one of Options.SMSCountries and is a mobile number. Otherwise
// the error matches ErrSMSDestination (and ErrChannelNotAllowed), and
// CatalogKey tells a refused country from a refused kind of number. The
// SMS driver checks every number again (notify.SMSGuard); this is for
// telling the member before anything is sent.
func (s *Service) CheckSMSNumber(e164 string) error {
	if err := s.numbers.Check(e164); err != nil {
		return fmt.Errorf("%w: %w", ErrSMSDestination, err)
	}
	return nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// event appends an audit event. A failing audit write is logged, not
// returned: what it records has already happened.
func (s *Service) event(ctx context.Context, e storage.Event) {
	e.Time = s.now()
	var b [8]byte
	_, _ = rand.Read(b[:])
	e.ID = fmt.Sprintf("%016x%s", e.Time.UnixNano(), hex.EncodeToString(b[:]))
	if err := s.store.AppendEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "type", e.Type, "member_id", e.MemberID, "error", err)
	}
}

func detail(o storage.OTP) map[string]string {
	return map[string]string{
		"purpose": o.Purpose, "format": o.Format,
		"destination": MaskDestination(o.Channel, o.Destination),
	}
}
