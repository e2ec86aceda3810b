package member

import (
	"context"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"tsubasa/provider/clientaddr"
	"tsubasa/storage"
)

// ServiceStore is the storage a Service needs.
type ServiceStore interface {
	storage.Members
	storage.Events
	storage.MemberEvents
	storage.Devices // the known devices' login budgets
	storage.CredentialChanges
	storage.Throttles     // the address and unknown-number throttles
	storage.LoginAttempts // attempts in flight
}

// Audit event types written by the Service.
const (
	EventLoginFailed = "login.failed"
	// EventPasswordVerified: the password (or legacy PIN) was right. The
	// login is not complete yet (set-password, one-time password and the
	// device check may follow); the login UI records login.succeeded, with
	// the device, once it is.
	EventPasswordVerified   = "login.password_verified"
	EventPasswordChanged    = "password.changed"
	EventPasswordChangeFail = "password.change_failed"
	EventTelephoneVerified  = "telephone.verified"
	EventTelephoneFailed    = "telephone.failed"
	EventTelephoneLocked    = "telephone.locked"
	EventMemberCreated      = "member.created"
	EventStatusChanged      = "member.status_changed"
	EventSessionsRevoked    = "sessions.revoked"
	EventNotMeReported      = "not_me.reported"
)

// Reasons of failed-login events.
const (
	ReasonBadCredentials = "bad_credentials"
	ReasonThrottled      = "throttled"
	ReasonPINExpired     = "pin_expired"
	ReasonDisabled       = "disabled"
)

// Authentication methods, as RFC 8176 amr values.
const (
	MethodPassword = "pwd"
	MethodPIN      = "pin"
)

// LockoutOptions configures web login throttling. Zero fields take the
// defaults in brackets.
type LockoutOptions struct {
	MaxFailures int           // failures within Window before throttling starts [5]
	Window      time.Duration // how long a failure counts [15m]
	BaseDelay   time.Duration // first lock; doubles with each further failure [30s]
	MaxDelay    time.Duration // cap of the lock [15m]
	// PerIPMaxFailures bounds failures from one address within Window,
	// whatever the numbers tried [100].
	PerIPMaxFailures int
	// IPv6Prefix is the network an IPv6 client's failures count under in
	// the per-address window (clientaddr.LimitKey) [64].
	IPv6Prefix int
	// KnownDeviceMaxFailures is the budget of a device that has logged in
	// as the member before, counted apart from the member's (see budget)
	// [0: none, every device counts against the member].
	KnownDeviceMaxFailures int
}

// Options configures a Service.
type Options struct {
	// Policy for new passwords; a zero Policy means DefaultPolicy().
	Policy  Policy
	Lockout LockoutOptions
	// PINWebCutover is when the legacy 6-digit PIN stops working on the web
	// (it keeps working on the telephone). Zero: the PIN never works on the web.
	PINWebCutover time.Time
	// TelephoneMaxFailures wrong PINs lock the telephone channel for
	// TelephoneLockout [5, 30m].
	TelephoneMaxFailures int
	TelephoneLockout     time.Duration
	// Emit, when set, receives every event once it is stored: cmd passes
	// audit.Logger.Emit so that the SIEM sees failed logins too.
	Emit func(ctx context.Context, e storage.Event)
	// SessionsEnded, when set, is called once a credential change has
	// ended sessions (CredentialChanged), with each of them and the
	// clients that held tokens from it: where back-channel logout is to
	// be sent from. It runs after the commit, in the request that made
	// the change, so it must not block on the relying parties (queue the
	// deliveries, as the outbox does for mail).
	SessionsEnded func(ctx context.Context, memberID string, ended []EndedSession)
	// SessionsEnding, when set, is called just before a credential change
	// ends every session of the member, so that what must reach the
	// relying parties is queued first and a crash between the two loses
	// none (back-channel logout); SessionsEnded then covers a session
	// created in between. Like SessionsEnded it must not block.
	SessionsEnding func(ctx context.Context, memberID string)
	Now            func() time.Time // [time.Now]
	Logger         *slog.Logger     // [slog.Default()]
}

// Service owns member accounts: creation, login, password changes, the
// telephone PIN check and imports.
type Service struct {
	store  ServiceStore
	hasher *Hasher
	opts   Options
	// Padding of failed and throttled answers (see failureTiming).
	timing, throttleTiming failureTiming
	log                    *slog.Logger
}

// NewService returns a Service on store, hashing with h.
func NewService(store ServiceStore, h *Hasher, opts Options) *Service {
	p := opts.Policy
	if p.MinLength == 0 && p.MaxLength == 0 && p.MinClasses == 0 && !p.RejectCommon && p.Breach == nil {
		opts.Policy = DefaultPolicy()
	}
	l := &opts.Lockout
	setDefault(&l.MaxFailures, 5)
	setDefault(&l.Window, 15*time.Minute)
	setDefault(&l.BaseDelay, 30*time.Second)
	setDefault(&l.MaxDelay, 15*time.Minute)
	setDefault(&l.PerIPMaxFailures, 100)
	setDefault(&l.IPv6Prefix, clientaddr.DefaultIPv6Prefix)
	setDefault(&opts.TelephoneMaxFailures, 5)
	setDefault(&opts.TelephoneLockout, 30*time.Minute)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{store: store, hasher: h, opts: opts, log: opts.Logger}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Policy returns the password policy in force (for the UI's rule list).
func (s *Service) Policy() Policy { return s.opts.Policy }

// PINWebOpen reports whether the legacy PIN is still accepted on the web.
func (s *Service) PINWebOpen() bool { return s.pinWebOpen(s.now()) }

func (s *Service) pinWebOpen(now time.Time) bool {
	return !s.opts.PINWebCutover.IsZero() && now.Before(s.opts.PINWebCutover)
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// event appends an audit event. A failing audit write is logged, not
// returned: the action it records has already happened. It is stored at
// once, never held back to the answer (storage.Units): a failed login's
// answer is padded to a common duration, and its write must fall inside
// the padding, whether the number exists or not.
func (s *Service) event(ctx context.Context, e storage.Event) {
	e = s.stamp(e)
	if err := s.store.AppendEvent(storage.Direct(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "type", e.Type, "member_id", e.MemberID, "error", err)
		return
	}
	s.emit(ctx, e)
}

// record appends e like event, but returns a failure instead of logging
// it, for callers that must not go on without the event. Under a unit it
// is held (a successful check's event, stored with the login it starts).
func (s *Service) record(ctx context.Context, e storage.Event) error {
	e = s.stamp(e)
	if err := s.store.AppendEvent(ctx, e); err != nil {
		return err
	}
	s.emit(ctx, e)
	return nil
}

// updateWithEvent updates the member and appends e in one commit (a
// successful check clears the count and records itself). Unlike event, a
// failure is returned: nothing was recorded.
func (s *Service) updateWithEvent(ctx context.Context, id string, fn func(storage.Member) (storage.Member, error), e storage.Event) error {
	e = s.stamp(e)
	if err := s.store.UpdateMemberWithEvents(ctx, id, fn, e); err != nil {
		return err
	}
	s.emit(ctx, e)
	return nil
}

// stamp gives an event its time (now, unless set) and id.
func (s *Service) stamp(e storage.Event) storage.Event {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.ID = newEventID(e.Time)
	return e
}

// emit hands a stored event to Options.Emit.
func (s *Service) emit(ctx context.Context, e storage.Event) {
	if s.opts.Emit != nil {
		// Once stored: a held event (see storage.Units) is stored when
		// the request answers.
		storage.AfterCommit(ctx, func() { s.opts.Emit(ctx, e) })
	}
}

// newEventID is unique and sorts by time: 16 hex digits of nanoseconds
// followed by 16 random hex digits.
func newEventID(t time.Time) string {
	return fmt.Sprintf("%016x%s", t.UnixNano(), hex.EncodeToString(randomBytes(8)))
}

// newMemberID returns 16 random bytes in lower-case unpadded base32: the
// stable, meaningless OIDC subject.
func newMemberID() string {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	return strings.ToLower(enc.EncodeToString(randomBytes(16)))
}

// importIDs is base32hex, whose characters sort as the bytes they encode.
var importIDs = base32.HexEncoding.WithPadding(base32.NoPadding)

// newImportedMemberID returns the id of an imported member: the time in
// milliseconds (6 bytes, big-endian) then 10 random bytes, in lower-case
// unpadded base32hex, 26 characters as newMemberID's. Ids made one after
// the other sort one after the other, so an import's members land
// together at the end of the stores' primary-key B-trees (a few pages per
// commit) instead of one page of a million members' tree each: with a
// million members stored, random ids made each imported row dirty its own
// page. The time it shows is the import's, not anything of the member's
// (and third parties see pairwise subjects); 80 random bits keep ids
// unguessable and apart, and the store still refuses a taken id.
func newImportedMemberID(t time.Time) string {
	b := randomBytes(16)
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	return strings.ToLower(importIDs.EncodeToString(b))
}

// normalizePassword puts passwords in NFC before hashing and verifying, so
// the same password typed on systems that compose differently matches.
func normalizePassword(s string) string { return norm.NFC.String(s) }
