package storage

import (
	"context"
	"time"
)

// Session is a browser session of the hosted login. Before login it carries
// only flow state (Data); after login it is also the SSO session whose id is
// the sid claim.
type Session struct {
	ID         string
	MemberID   string // empty until a member has logged in
	DeviceID   string // the device record the login was attributed to
	AuthTime   time.Time
	ACR        string
	AMR        []string
	Data       map[string]string // login-UI flow state (auth request binding, CSRF, ceremonies)
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// Clients are the relying parties that were given a code (and so an
	// ID token with this session's sid) from this session, in the order
	// they first got one: the clients a back-channel logout goes to when
	// the session ends (OpenID Connect Back-Channel Logout 1.0 §2.7).
	Clients []string
	// Carried are the sessions this one replaced in the same browser when
	// the same member logged in again (the id changes at every login),
	// each with the clients given codes from it: those relying parties
	// know the member's session by that older sid, and hear of its end
	// by it.
	Carried []CarriedSession
}

// CarriedSession is an earlier session id of a browser session, with the
// clients given codes under it.
type CarriedSession struct {
	ID      string
	Clients []string
}

// Expired reports whether the session is past its lifetime.
func (s Session) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// SessionFilter selects sessions; MemberID is required, DeviceID narrows.
type SessionFilter struct {
	MemberID string
	DeviceID string
}

// Sessions stores browser and SSO sessions.
type Sessions interface {
	// CreateSession stores a new session. A unit holds it (see Units).
	CreateSession(ctx context.Context, s Session) error
	SessionByID(ctx context.Context, id string) (Session, error)
	UpdateSession(ctx context.Context, id string, fn func(Session) (Session, error)) error
	DeleteSession(ctx context.Context, id string) error
	ListSessions(ctx context.Context, f SessionFilter) ([]Session, error)
	DeleteSessions(ctx context.Context, f SessionFilter) (int, error)
}

// CachedSessions is a store that can answer a session from memory, at the
// cost of a bounded staleness (the PostgreSQL store: a read less per SSO
// answer). The session may be a copy from up to the store's revocation
// delay ago, except that a session ended, or given another member,
// device or lifetime, by any process is never answered after that delay,
// and by this process never after the write returned. Changes of the
// record alone (its flow state, clients, last use, a step-up's stronger
// method and later AuthTime) may be missing from the copy for as long.
// So it is for readers that only become more cautious with an older
// copy: the SSO answer (a weaker method or an older login asks again
// through the uncached read). It never answers ErrNotFound from memory.
type CachedSessions interface {
	SessionByIDCached(ctx context.Context, id string) (Session, error)
}

// SessionByIDCached is s.SessionByIDCached when s caches sessions, or else
// s.SessionByID.
func SessionByIDCached(ctx context.Context, s Sessions, id string) (Session, error) {
	if c, ok := s.(CachedSessions); ok {
		return c.SessionByIDCached(ctx, id)
	}
	return s.SessionByID(ctx, id)
}

// OTP is a one-time-password challenge, stored by its HMAC. At most one
// challenge is outstanding per member and purpose.
type OTP struct {
	ID          string
	MemberID    string
	Purpose     string // login, step_up, contact, passkey, reset
	Channel     string // ChannelEmail or ChannelSMS
	Destination string // where it was sent (the address being verified, for contact)
	Format      string // digits or pictogram
	CodeHash    []byte
	Attempts    int
	Consumed    bool
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Expired reports whether the challenge is past its lifetime.
func (o OTP) Expired(now time.Time) bool { return !now.Before(o.ExpiresAt) }

// OTPs stores one-time-password challenges.
type OTPs interface {
	// PutOTP stores o and, in the same transaction, removes any other
	// challenge of the same member and purpose: the newest replaces older ones.
	PutOTP(ctx context.Context, o OTP) error
	// CurrentOTP returns the outstanding challenge of a member for a purpose.
	CurrentOTP(ctx context.Context, memberID, purpose string) (OTP, error)
	UpdateOTP(ctx context.Context, id string, fn func(OTP) (OTP, error)) error
	DeleteOTP(ctx context.Context, id string) error
}

// Device is a browser or app a member has logged in from, recognised by the
// HMAC of a long-lived random device cookie.
type Device struct {
	ID             string
	MemberID       string
	Type           string // mobile, tablet, desktop, bot, unknown
	Model          string // e.g. iPhone
	OS             string
	OSVersion      string
	Browser        string // family, e.g. Chrome
	BrowserVersion string
	FirstSeenAt    time.Time
	LastSeenAt     time.Time
	LastIP         string

	// Web login throttle of this device for its member, apart from the
	// member's own (see package member): a browser that has logged in as
	// the member before keeps trying while strangers' failures lock the
	// member, within a budget of its own.
	FailedLogins    int
	LastFailedLogin time.Time
	LockedUntil     time.Time

	// Place is where LastIP was, roughly, at the last login (GeoIP).
	Place Place
	// The passkey offer after a password login in this browser (login-ui):
	// when it was last shown, and when the member last said "not now".
	PasskeyOfferedAt  time.Time
	PasskeyDeclinedAt time.Time
}

// Devices stores the devices known for each member.
type Devices interface {
	PutDevice(ctx context.Context, d Device) error // insert or replace
	DeviceByID(ctx context.Context, memberID, id string) (Device, error)
	// UpdateDevice applies fn to one of the member's devices atomically
	// (ErrNotFound when there is none); fn may not change its keys.
	UpdateDevice(ctx context.Context, memberID, id string, fn func(Device) (Device, error)) error
	ListDevices(ctx context.Context, memberID string) ([]Device, error)
	DeleteDevice(ctx context.Context, memberID, id string) error
}

// Passkey is a WebAuthn credential, with what go-webauthn asks to persist.
type Passkey struct {
	ID              []byte // credential id
	MemberID        string
	Name            string
	PublicKey       []byte
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	BackupEligible  bool
	BackupState     bool
	UserPresent     bool
	UserVerified    bool
	Transports      []string
	CreatedAt       time.Time
	LastUsedAt      time.Time
}

// Passkeys stores WebAuthn credentials; the credential id is unique.
type Passkeys interface {
	CreatePasskey(ctx context.Context, p Passkey) error
	PasskeyByID(ctx context.Context, id []byte) (Passkey, error)
	ListPasskeys(ctx context.Context, memberID string) ([]Passkey, error)
	UpdatePasskey(ctx context.Context, id []byte, fn func(Passkey) (Passkey, error)) error
	DeletePasskey(ctx context.Context, id []byte) error
}

// Consent is what a member allowed a third-party client to see.
type Consent struct {
	MemberID  string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Consents stores consents by member and client.
type Consents interface {
	PutConsent(ctx context.Context, c Consent) error // insert or replace
	ConsentByID(ctx context.Context, memberID, clientID string) (Consent, error)
	ListConsents(ctx context.Context, memberID string) ([]Consent, error)
	DeleteConsent(ctx context.Context, memberID, clientID string) error
}
