package passkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// Store is the storage a Service needs.
type Store interface {
	storage.Members
	storage.Passkeys
	storage.Events
	storage.SingleUse // finished ceremonies, in every process
}

// Audit event types written by the Service.
const (
	EventAdded   = "passkey.added"
	EventRemoved = "passkey.removed"
)

// Method is the value of storage.Event.Method for passkey events and logins.
const Method = "passkey"

// ACR is the assurance level a passkey login reaches.
const ACR = acr.PhishingResistant

// DefaultTimeout is how long a ceremony may take, from Begin to Finish.
const DefaultTimeout = 5 * time.Minute

// MaxNameLength is the longest passkey name, in characters (runes).
const MaxNameLength = 64

// handleSize is the length of a member's WebAuthn user handle: 64 random
// bytes, the most the specification allows, carrying nothing about the member.
const handleSize = 64

// Sentinel errors. Every ceremony failure is shown to the member as one
// generic message; the distinctions are for logs and tests. Test with
// errors.Is.
var (
	// ErrInvalid: the state or the browser's response is malformed, or
	// go-webauthn refused the response (challenge, origin, RP ID, signature,
	// flags …); it wraps the library's error.
	ErrInvalid = errors.New("passkey: invalid ceremony")
	// ErrStateExpired: the ceremony began more than Options.Timeout ago.
	ErrStateExpired = errors.New("passkey: ceremony expired")
	// ErrStateUsed: this ceremony state was already given to a Finish call.
	ErrStateUsed = errors.New("passkey: ceremony already finished")
	// ErrStateMismatch: the state belongs to another member or to the other
	// ceremony (a login state given to FinishRegistration or the reverse).
	ErrStateMismatch = errors.New("passkey: ceremony state does not match")
	// ErrUnknownCredential: no such passkey, no member with the user handle,
	// or the passkey belongs to someone else. The page may tell the browser
	// (PublicKeyCredential.signalUnknownCredential) so it hides the passkey.
	ErrUnknownCredential = errors.New("passkey: unknown credential")
	// ErrUserVerification: the authenticator did not verify the user
	// (biometrics or device PIN); the UV flag is not set.
	ErrUserVerification = errors.New("passkey: user not verified")
	// ErrCloned: the signature counter did not move forward, a sign that the
	// authenticator may have been cloned or the assertion replayed.
	ErrCloned = errors.New("passkey: signature counter went backwards")
	// ErrMemberInactive: the member's account is locked or disabled.
	ErrMemberInactive = errors.New("passkey: member account not active")
	// ErrAlreadyRegistered: the credential id is already stored (for this
	// member or any other).
	ErrAlreadyRegistered = errors.New("passkey: credential already registered")
	// ErrNotFound: no such passkey for this member (Rename, Delete).
	ErrNotFound = errors.New("passkey: not found")
	// ErrName: a passkey name is empty after trimming, longer than
	// MaxNameLength characters, or holds control characters.
	ErrName = errors.New("passkey: invalid name")
)

// Options configures a Service. cmd fills the relying party from
// config.PasskeyRPID, PasskeyRPDisplayName and PasskeyOrigins.
type Options struct {
	RPID          string   // required, e.g. "id.example.jp" (the issuer's host by default)
	RPDisplayName string   // shown by some authenticators; default RPID
	Origins       []string // required, e.g. ["https://id.example.jp"]
	// Apps share the passkeys (apps.go): their Android origins are
	// accepted in ceremonies, and WellKnown publishes them.
	Apps Apps
	// Timeout bounds a ceremony: it is the browser's timeout hint and the
	// lifetime of the state [DefaultTimeout].
	Timeout time.Duration
	// StateKey, when set (at least 32 bytes), seals the ceremony state with
	// AES-256-GCM so it may live where the client can read it. Without it
	// the state is plain base64url JSON and must be kept server-side (the
	// login UI's server-side session).
	StateKey []byte
	Now      func() time.Time // [time.Now]
	Logger   *slog.Logger     // [slog.Default()]
}

// Service runs the WebAuthn registration and login ceremonies and manages a
// member's passkeys. It is safe for concurrent use.
type Service struct {
	store Store
	wa    *webauthn.WebAuthn
	opts  Options
	state stateCodec
	log   *slog.Logger
}

// New returns a Service on store.
func New(store Store, o Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("passkey: nil store")
	}
	if o.RPID == "" {
		return nil, errors.New("passkey: RPID is required")
	}
	if len(o.Origins) == 0 {
		return nil, errors.New("passkey: at least one origin is required")
	}
	if o.RPDisplayName == "" {
		o.RPDisplayName = o.RPID
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	codec, err := newStateCodec(o.StateKey)
	if err != nil {
		return nil, err
	}
	appOrigins, err := o.Apps.origins()
	if err != nil {
		return nil, err
	}
	timeouts := webauthn.TimeoutConfig{Timeout: o.Timeout, TimeoutUVD: o.Timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          o.RPID,
		RPDisplayName: o.RPDisplayName,
		RPOrigins:     append([]string(nil), o.Origins...),
		// The configured Android apps' origins, compared as strings; with
		// them go-webauthn also holds RPOrigins to what /.well-known/webauthn
		// can declare.
		RPOpaqueOrigins: appOrigins,
		// No attestation: Tsubasa does not restrict authenticator models,
		// and asking for attestation only adds a privacy prompt.
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		// Expiry is enforced by this package against Options.Now (the
		// library would use the wall clock), so Enforce stays off.
		Timeouts: webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
		// Real clients add outputs nobody asked for (Chrome sends credProps
		// on every create); refusing them would fail genuine passkeys.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Service{
		store: store,
		wa:    wa,
		opts:  o,
		state: codec,
		log:   o.Logger,
	}, nil
}

// RPID is the relying party id passkeys are registered for; the account
// page gives it to the browser's signal API.
func (s *Service) RPID() string { return s.opts.RPID }

// IsSynced reports whether the passkey is backed up to a passkey provider
// (iCloud Keychain, Google Password Manager, a password manager …) and so
// usable from the member's other devices: the authenticator's backup state.
func IsSynced(p storage.Passkey) bool { return p.BackupState }

// AMR returns the RFC 8176 method references of a login with p: "swk" for a
// passkey that may be synced (backup eligible: the key lives in software
// outside one device's secure hardware), "hwk" for a device-bound one, and
// "user" because user verification is always required.
func AMR(p storage.Passkey) []string {
	key := acr.AMRHardware
	if p.BackupEligible {
		key = acr.AMRSoftware
	}
	return acr.AMR(key, acr.AMRUser)
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// active reports whether m may use or add passkeys.
func active(m storage.Member) bool {
	return m.Status != storage.MemberLocked && m.Status != storage.MemberDisabled
}

// event appends an audit event. A failing audit write is logged, not
// returned: the action it records has already happened.
func (s *Service) event(ctx context.Context, e storage.Event) {
	e.Time = s.now()
	e.ID = fmt.Sprintf("%016x%s", e.Time.UnixNano(), hex.EncodeToString(randomBytes(8)))
	e.Method = Method
	if err := s.store.AppendEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "type", e.Type, "member_id", e.MemberID, "error", err)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return b
}

// invalid wraps a library or parsing error in ErrInvalid.
func invalid(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
}
