package passkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tsubasa/storage"
)

// BeginRegistration starts adding a passkey for m. The caller has already
// checked the member's SMS one-time password (the step-up the programme
// requires before a passkey can be added).
//
// It gives m a random 64-byte WebAuthn user handle the first time (stored
// once with UpdateMember and then never changed), and returns the JSON
// CredentialCreationOptions ({"publicKey": {…}}) for navigator.credentials.create
// and the opaque ceremony state to keep in the browser's server-side session
// until FinishRegistration. The options require a discoverable credential
// (residentKey "required") and user verification, ask for no attestation,
// and exclude the member's existing passkeys so one authenticator is not
// registered twice.
func (s *Service) BeginRegistration(ctx context.Context, m storage.Member) (options []byte, state string, err error) {
	if !active(m) {
		return nil, "", ErrMemberInactive
	}
	if m.WebAuthnHandle, err = s.ensureHandle(ctx, m); err != nil {
		return nil, "", err
	}
	existing, err := s.store.ListPasskeys(ctx, m.ID)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: list passkeys: %w", err)
	}
	exclude := make([]protocol.CredentialDescriptor, len(existing))
	for i, p := range existing {
		exclude[i] = descriptor(p)
	}
	creation, session, err := s.wa.BeginRegistration(user{m: m},
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
	)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin registration: %w", err)
	}
	if options, err = json.Marshal(creation); err != nil {
		return nil, "", fmt.Errorf("passkey: encode options: %w", err)
	}
	if state, err = s.beginState(kindRegistration, m.ID, session); err != nil {
		return nil, "", err
	}
	return options, state, nil
}

// ensureHandle returns m's user handle, creating and storing one if m has
// none. A handle another request stored first wins.
func (s *Service) ensureHandle(ctx context.Context, m storage.Member) ([]byte, error) {
	if len(m.WebAuthnHandle) > 0 {
		return m.WebAuthnHandle, nil
	}
	fresh := randomBytes(handleSize)
	var handle []byte
	err := s.store.UpdateMember(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
		// UpdatedAt stays: it is the profile's updated_at claim, and the
		// handle is not part of the profile.
		if len(old.WebAuthnHandle) == 0 {
			old.WebAuthnHandle = fresh
		}
		handle = old.WebAuthnHandle // the last run is the one stored
		return old, nil
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: store user handle: %w", err)
	}
	return handle, nil
}

// FinishRegistration verifies the browser's answer to BeginRegistration
// and stores the new passkey.
//
// response is the JSON the browser's PublicKeyCredential serialises to
// (credential.toJSON()); state is what BeginRegistration returned for the
// same member, at most Options.Timeout ago, and is spent by this call
// whatever its outcome. name is the member's name for the passkey: "" picks
// a default from the passkey provider (by AAGUID) or the user agent; a
// non-empty name must pass CleanName (check it before the ceremony).
func (s *Service) FinishRegistration(ctx context.Context, m storage.Member, state string, response []byte, name, userAgent string) (storage.Passkey, error) {
	if name != "" {
		var err error
		if name, err = CleanName(name); err != nil {
			return storage.Passkey{}, err
		}
	}
	st, err := s.finishState(ctx, state, kindRegistration)
	if err != nil {
		return storage.Passkey{}, err
	}
	if st.MemberID != m.ID {
		return storage.Passkey{}, fmt.Errorf("%w: registration began for another member", ErrStateMismatch)
	}
	// Read the member again: the handle may have been assigned by Begin
	// after the caller loaded m, and the account may have been disabled.
	cur, err := s.store.MemberByID(ctx, m.ID)
	if err != nil {
		return storage.Passkey{}, fmt.Errorf("passkey: load member: %w", err)
	}
	if !active(cur) {
		return storage.Passkey{}, ErrMemberInactive
	}
	if !bytes.Equal(cur.WebAuthnHandle, st.Session.UserID) {
		return storage.Passkey{}, fmt.Errorf("%w: user handle changed", ErrStateMismatch)
	}

	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return storage.Passkey{}, invalid("parse registration response", err)
	}
	if !parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified() {
		return storage.Passkey{}, ErrUserVerification
	}
	cred, err := s.wa.CreateCredential(user{m: cur}, st.Session, parsed)
	if err != nil {
		return storage.Passkey{}, invalid("verify registration", err)
	}
	// Clients report credProps unasked; a credential they say is not
	// discoverable could never be used for a usernameless login.
	if cp := parsed.ClientExtensionResults.CredProps; cp != nil && cp.RK != nil && !*cp.RK {
		return storage.Passkey{}, fmt.Errorf("%w: the authenticator created a non-discoverable credential", ErrInvalid)
	}

	existing, err := s.store.ListPasskeys(ctx, cur.ID)
	if err != nil {
		return storage.Passkey{}, fmt.Errorf("passkey: list passkeys: %w", err)
	}
	if name == "" {
		name = defaultName(cred.Authenticator.AAGUID, userAgent, existing)
	}
	p := newPasskey(cur.ID, name, cred, s.now())
	if err := s.store.CreatePasskey(ctx, p); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return storage.Passkey{}, fmt.Errorf("%w: %w", ErrAlreadyRegistered, err)
		}
		return storage.Passkey{}, fmt.Errorf("passkey: store passkey: %w", err)
	}
	s.event(ctx, storage.Event{
		Type:      EventAdded,
		MemberID:  cur.ID,
		UserAgent: userAgent,
		Success:   true,
		Detail: map[string]string{
			"name":            p.Name,
			"aaguid":          formatUUID(p.AAGUID),
			"backup_eligible": strconv.FormatBool(p.BackupEligible),
			"synced":          strconv.FormatBool(IsSynced(p)),
		},
	})
	return p, nil
}

// newPasskey is the stored record of a credential go-webauthn verified.
func newPasskey(memberID, name string, c *webauthn.Credential, now time.Time) storage.Passkey {
	var transports []string
	for _, t := range c.Transport {
		transports = append(transports, string(t))
	}
	return storage.Passkey{
		ID:              c.ID,
		MemberID:        memberID,
		Name:            name,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		AAGUID:          c.Authenticator.AAGUID,
		SignCount:       c.Authenticator.SignCount,
		BackupEligible:  c.Flags.BackupEligible,
		BackupState:     c.Flags.BackupState,
		UserPresent:     c.Flags.UserPresent,
		UserVerified:    c.Flags.UserVerified,
		Transports:      transports,
		CreatedAt:       now,
	}
}
