package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tsubasa/storage"
)

// BeginLogin starts a usernameless passkey login. It returns the JSON
// CredentialRequestOptions ({"publicKey": {…}}) for navigator.credentials.get,
// with no allowCredentials (the authenticator offers the member's
// discoverable passkeys) and user verification required, and the opaque
// ceremony state to keep in the browser's server-side session. Mediation is
// left to the page: a button calls get() as is, and the login form's
// autofill adds mediation: "conditional".
func (s *Service) BeginLogin(ctx context.Context) (options []byte, state string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	assertion, session, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin login: %w", err)
	}
	if options, err = json.Marshal(assertion); err != nil {
		return nil, "", fmt.Errorf("passkey: encode options: %w", err)
	}
	if state, err = s.beginState(kindLogin, "", session); err != nil {
		return nil, "", err
	}
	return options, state, nil
}

// FinishLogin verifies the browser's answer to BeginLogin and returns the
// member, their passkey as updated, and the amr of the login (see AMR; the
// acr is ACR). state is spent by this call whatever its outcome.
//
// The member is found by the user handle in the response and the passkey by
// its credential id; the passkey must belong to that member. After
// verification the passkey's sign count, backup state and last use are
// stored. A sign count that does not move forward while both the stored
// and the new count are non-zero refuses the login with ErrCloned.
//
// On any error the member and passkey are zero, so a failed login can
// never be mistaken for a successful one.
func (s *Service) FinishLogin(ctx context.Context, state string, response []byte) (storage.Member, storage.Passkey, []string, error) {
	m, p, amr, err := s.finishLogin(ctx, state, response)
	if err != nil {
		return storage.Member{}, storage.Passkey{}, nil, err
	}
	return m, p, amr, nil
}

func (s *Service) finishLogin(ctx context.Context, state string, response []byte) (storage.Member, storage.Passkey, []string, error) {
	var (
		m storage.Member
		p storage.Passkey
	)
	st, err := s.finishState(ctx, state, kindLogin)
	if err != nil {
		return m, p, nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return m, p, nil, invalid("parse login response", err)
	}
	if m, p, err = s.owner(ctx, parsed.RawID, parsed.Response.UserHandle); err != nil {
		return m, p, nil, err
	}
	if !active(m) {
		return m, p, nil, ErrMemberInactive
	}
	authData := parsed.Response.AuthenticatorData
	if !authData.Flags.HasUserVerified() {
		return m, p, nil, ErrUserVerification
	}
	u := user{m: m, creds: []webauthn.Credential{credential(p)}}
	handler := func(_, _ []byte) (webauthn.User, error) { return u, nil }
	if _, _, err := s.wa.ValidatePasskeyLogin(handler, st.Session, parsed); err != nil {
		return m, p, nil, invalid("verify login", err)
	}

	now := s.now()
	err = s.store.UpdatePasskey(ctx, p.ID, func(old storage.Passkey) (storage.Passkey, error) {
		if n := authData.Counter; n != 0 && old.SignCount != 0 && n <= old.SignCount {
			return old, fmt.Errorf("%w: stored %d, presented %d", ErrCloned, old.SignCount, n)
		}
		if authData.Counter > old.SignCount {
			old.SignCount = authData.Counter
		}
		old.BackupState = authData.Flags.HasBackupState()
		old.UserPresent = authData.Flags.HasUserPresent()
		old.UserVerified = true // latched: this login verified the user
		old.LastUsedAt = now
		p = old
		return old, nil
	})
	switch {
	case errors.Is(err, ErrCloned):
		s.log.WarnContext(ctx, "passkey sign count did not increase; login refused",
			"member_id", m.ID, "error", err)
		return m, p, nil, err
	case errors.Is(err, storage.ErrNotFound): // deleted meanwhile
		return m, p, nil, fmt.Errorf("%w: %w", ErrUnknownCredential, err)
	case err != nil:
		return m, p, nil, fmt.Errorf("passkey: update passkey: %w", err)
	}
	return m, p, AMR(p), nil
}

// owner finds the member of a user handle and their passkey with id.
func (s *Service) owner(ctx context.Context, id, handle []byte) (storage.Member, storage.Passkey, error) {
	var (
		m   storage.Member
		p   storage.Passkey
		err error
	)
	if len(handle) == 0 {
		// Every passkey registered here is discoverable and so returns
		// the handle; go-webauthn would refuse the response anyway.
		return m, p, fmt.Errorf("%w: response without a user handle", ErrInvalid)
	}
	if m, err = s.store.MemberByWebAuthnHandle(ctx, handle); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return m, p, fmt.Errorf("%w: no member with this user handle", ErrUnknownCredential)
		}
		return m, p, fmt.Errorf("passkey: member by handle: %w", err)
	}
	if p, err = s.store.PasskeyByID(ctx, id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return m, p, fmt.Errorf("%w: no passkey with this id", ErrUnknownCredential)
		}
		return m, p, fmt.Errorf("passkey: passkey by id: %w", err)
	}
	if p.MemberID != m.ID {
		return m, p, fmt.Errorf("%w: passkey belongs to another member", ErrUnknownCredential)
	}
	return m, p, nil
}

// Claimant returns the member a login response names by its user handle,
// without verifying anything: for recording a failed login in the member's
// history only, never as proof of who is there. False when the response
// names no known member.
func (s *Service) Claimant(ctx context.Context, response []byte) (storage.Member, bool) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil || len(parsed.Response.UserHandle) == 0 {
		return storage.Member{}, false
	}
	m, err := s.store.MemberByWebAuthnHandle(ctx, parsed.Response.UserHandle)
	if err != nil {
		return storage.Member{}, false
	}
	return m, true
}

// Reason names a ceremony failure for audit events and logs (the member
// sees one generic message whatever it is).
func Reason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{ErrUserVerification, "user_not_verified"},
		{ErrUnknownCredential, "unknown_credential"},
		{ErrCloned, "sign_count"},
		{ErrMemberInactive, "inactive"},
		{ErrStateExpired, "expired"},
		{ErrStateUsed, "replayed"},
		{ErrStateMismatch, "state_mismatch"},
		{ErrAlreadyRegistered, "already_registered"},
		{ErrName, "invalid_name"},
		{ErrInvalid, "invalid"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "error"
}
