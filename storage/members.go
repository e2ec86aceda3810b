package storage

import (
	"context"
	"log/slog"
	"time"
)

// MemberStatus is the state of a member account.
type MemberStatus string

// Member account states.
const (
	MemberActive   MemberStatus = "active"
	MemberLocked   MemberStatus = "locked"
	MemberDisabled MemberStatus = "disabled"
)

// OTP delivery channels, used as a member's notification destination.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Member is a programme member: profile, contacts and credential hashes.
type Member struct {
	ID     string // stable random identifier; the public OIDC subject
	Number string // 7 or 9 digits, unique

	FamilyName      string // as written in the member's script (kanji, kana …)
	GivenName       string
	FamilyNameLatin string // passport form
	GivenNameLatin  string

	Email         string
	EmailVerified bool
	Phone         string // E.164
	PhoneVerified bool
	Country       string // ISO 3166-1 alpha-2 country of residence
	Locale        string // preferred language: "ja" or "en"
	OTPChannel    string // ChannelEmail or ChannelSMS: where one-time passwords go

	Status MemberStatus

	PasswordHash       string // argon2id (or imported bcrypt) PHC string; empty = none set
	PINHash            string // legacy 6-digit PIN, argon2id PHC; telephone channel
	MustChangePassword bool   // set by "this wasn't me" and by PIN migration
	PasswordChangedAt  time.Time
	// SecurityStamp is a random value replaced with every change of the
	// member's credentials (password, passkey removed, contact, "this
	// wasn't me"). A login in progress and a browser session remember the
	// stamp they began under and are void once it changed; a password
	// held back until a login completes is stored only if it is unchanged.
	SecurityStamp string
	// SecondFactorDue is set by "this wasn't me": the next login must give
	// a one-time password (or use a passkey) whatever the configuration
	// says, and is cleared by the login that sets the new password.
	SecondFactorDue bool

	WebAuthnHandle []byte // random 64-byte WebAuthn user handle, unique, set once

	// Web login throttling (per member, independent of IP).
	FailedLogins    int
	LastFailedLogin time.Time
	LockedUntil     time.Time

	// Telephone PIN channel lockout, separate from the web.
	PhoneFailures    int
	PhoneLockedUntil time.Time

	CreatedAt time.Time
	UpdatedAt time.Time

	// Whether the contacts still receive messages (provider/reach): when
	// the member last confirmed a test message to Email and to Phone
	// arrived ("received it"); the outstanding test message's link per
	// channel (ChannelEmail, ChannelSMS → its id, spent by the
	// confirmation: single use); the test messages' throttle (the last
	// one, and how many since ContactTestsSince, a 24-hour window); and
	// when the member was last reminded after a login to check.
	EmailConfirmedAt  time.Time
	PhoneConfirmedAt  time.Time
	ContactTests      map[string]string
	ContactTestAt     time.Time
	ContactTestCount  int
	ContactTestsSince time.Time
	ContactReminderAt time.Time
}

// DisplayName is the name shown to the member and released in the profile scope.
func (m Member) DisplayName() string {
	switch {
	case m.FamilyName != "" || m.GivenName != "":
		return joinName(m.FamilyName, m.GivenName)
	default:
		return joinName(m.GivenNameLatin, m.FamilyNameLatin)
	}
}

func joinName(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + " " + b
}

// LogValue keeps credential hashes and contact details out of logs.
func (m Member) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", m.ID),
		slog.String("status", string(m.Status)),
	)
}

// Members stores member accounts. Number and WebAuthnHandle are unique indexes.
type Members interface {
	CreateMember(ctx context.Context, m Member) error
	// CreateMembers stores many members in as few commits as the backend can
	// (one per call for bolt). It returns one error per member (nil, or
	// wrapping ErrAlreadyExists); a member that fails is not written, the
	// others are. The second result is a failure of the whole call.
	CreateMembers(ctx context.Context, ms []Member) ([]error, error)
	MemberByID(ctx context.Context, id string) (Member, error)
	MemberByNumber(ctx context.Context, number string) (Member, error)
	MemberByWebAuthnHandle(ctx context.Context, handle []byte) (Member, error)
	UpdateMember(ctx context.Context, id string, fn func(Member) (Member, error)) error
	CountMembers(ctx context.Context) (int, error)
}

// MemberContacts finds members by their contacts, for the back office
// (the admin API's member lookup). Contacts are not unique: a family may
// share a mailbox, and a number may pass to someone else.
type MemberContacts interface {
	// MembersByEmail returns the members whose Email is email exactly (as
	// stored: the caller normalises it as it was normalised when
	// stored), at most limit, in no particular order.
	MembersByEmail(ctx context.Context, email string, limit int) ([]Member, error)
	// MembersByPhone is MembersByEmail for Phone (E.164).
	MembersByPhone(ctx context.Context, phone string, limit int) ([]Member, error)
}
