package member

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tsubasa/storage"
)

// CreateMember validates nm, hashes its secrets and stores the member. It
// returns *FieldErrors for invalid fields (Fields["number"] is KeyNumberTaken
// and the error wraps storage.ErrAlreadyExists when the number is taken), or
// ErrBusy from the hasher.
func (s *Service) CreateMember(ctx context.Context, nm NewMember) (storage.Member, error) {
	v, fe := validateNew(ctx, nm, &s.opts.Policy)
	if fe != nil {
		return storage.Member{}, fe
	}
	// Look before hashing: argon2id is too dear to spend on a taken number.
	if _, err := s.store.MemberByNumber(ctx, v.m.Number); err == nil {
		return storage.Member{}, numberTaken(v.m.Number)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storage.Member{}, fmt.Errorf("member: looking up number: %w", err)
	}
	m, err := s.complete(ctx, v, false)
	if err != nil {
		return storage.Member{}, err
	}
	if err := s.store.CreateMember(ctx, m); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return storage.Member{}, numberTaken(m.Number)
		}
		return storage.Member{}, fmt.Errorf("member: creating: %w", err)
	}
	s.event(ctx, storage.Event{Type: EventMemberCreated, MemberID: m.ID, Success: true})
	return m, nil
}

func numberTaken(number string) error {
	fe := &FieldErrors{}
	fe.add("number", fmt.Errorf("member number %s is taken: %w", number, storage.ErrAlreadyExists))
	fe.Fields["number"] = KeyNumberTaken
	return fe
}

// complete turns a validated member into a record: identifiers, hashes,
// status and times. An import (imported=true) queues for the hasher
// instead of failing with ErrBusy, takes an id that sorts by time
// (newImportedMemberID) and leaves the WebAuthn user handle for the
// member's first passkey to create (passkey's ensureHandle): a random
// 64-byte key per row would dirty one page of the handle index per
// imported member, for members most of whom never register a passkey.
func (s *Service) complete(ctx context.Context, v validated, imported bool) (storage.Member, error) {
	now := s.now()
	m := v.m
	wait := imported
	if imported {
		m.ID = newImportedMemberID(now)
	} else {
		m.ID = newMemberID()
		m.WebAuthnHandle = randomBytes(64)
	}
	m.SecurityStamp = newSecurityStamp()
	m.Status = storage.MemberActive
	m.CreatedAt, m.UpdatedAt = now, now
	var err error
	switch {
	case v.passwordHash != "":
		m.PasswordHash = v.passwordHash
		m.PasswordChangedAt = now
	case v.password != "":
		if m.PasswordHash, err = s.hasher.hash(ctx, v.password, wait); err != nil {
			return m, err
		}
		m.PasswordChangedAt = now
	}
	if v.pin != "" {
		if m.PINHash, err = s.hasher.hash(ctx, v.pin, wait); err != nil {
			return m, err
		}
		// A PIN-only member is mid-migration: the next web login must end
		// with a real password.
		m.MustChangePassword = m.PasswordHash == ""
	}
	return m, nil
}

// SetPassword sets a new password without asking for the current one: a
// reset by one-time password (ChangeReset) or an operator (ChangeOperator).
// The new password must pass the policy (*PolicyError) and differ from the
// current one (ErrSamePassword). Like every credential change it ends the
// member's sessions and revokes their tokens (CredentialChanged); c.Guard
// refuses the change once the credentials changed since the step that
// allowed it (ErrCredentialsChanged).
func (s *Service) SetPassword(ctx context.Context, memberID, newPassword string, c Change) (Ended, error) {
	hash, err := s.HashNewPassword(ctx, memberID, newPassword)
	if err != nil {
		return Ended{}, err
	}
	return s.SetPasswordHash(ctx, memberID, hash, c)
}

// HashNewPassword checks a new password for the member (the policy,
// *PolicyError; not the current one, ErrSamePassword) and returns its
// hash, for SetPasswordHash. A login that must set a password checks it
// when the member types it, and stores it only once the login is
// complete, second factor included.
func (s *Service) HashNewPassword(ctx context.Context, memberID, newPassword string) (string, error) {
	m, err := s.store.MemberByID(ctx, memberID)
	if err != nil {
		return "", fmt.Errorf("member: %w", err)
	}
	if vs := s.opts.Policy.Check(ctx, newPassword, m); len(vs) > 0 {
		return "", &PolicyError{Violations: vs}
	}
	pw := normalizePassword(newPassword)
	if m.PasswordHash != "" {
		// A forced change ("this wasn't me") must not keep the old password.
		same, _, err := s.hasher.Verify(ctx, m.PasswordHash, pw)
		if err != nil && !errors.Is(err, ErrHashFormat) {
			return "", err
		}
		if same {
			return "", ErrSamePassword
		}
	}
	return s.hasher.Hash(ctx, pw)
}

// SetPasswordHash stores a hash HashNewPassword returned, as a credential
// change of kind c.Kind (CredentialChanged). A login guards it with the
// stamp it began under (c.Guard, c.Stamp): a password changed meanwhile (a
// reset in another browser) is never overwritten by the one it held.
func (s *Service) SetPasswordHash(ctx context.Context, memberID, hash string, c Change) (Ended, error) {
	if !strings.HasPrefix(hash, "$argon2id$") {
		return Ended{}, fmt.Errorf("%w: not an argon2id hash", ErrHashFormat)
	}
	c.Update = passwordUpdate(hash, s.now())
	if c.Kind == ChangeTemporary {
		// Known to the operator who set it: the member replaces it at
		// the next login, before any token is issued.
		set := c.Update
		c.Update = func(old storage.Member) (storage.Member, error) {
			old, err := set(old)
			old.MustChangePassword = true
			return old, err
		}
	}
	c.Events = append(slices.Clone(c.Events), storage.Event{Type: EventPasswordChanged, Method: MethodPassword, Success: true,
		Detail: map[string]string{"reason": c.Kind}})
	return s.CredentialChanged(ctx, memberID, c)
}

// ChangePassword replaces the password after checking the current one
// (ErrInvalidCredentials). The new one must differ (ErrSamePassword) and
// pass the policy (*PolicyError). It is a credential change of kind
// ChangePassword: every session ends and every token is revoked
// (CredentialChanged); the caller may keep the browser it was made in by
// giving it Ended.Stamp.
func (s *Service) ChangePassword(ctx context.Context, memberID, current, newPassword string, c Change) (Ended, error) {
	m, err := s.store.MemberByID(ctx, memberID)
	if err != nil {
		return Ended{}, fmt.Errorf("member: %w", err)
	}
	// The current password is a guessable secret even behind a session:
	// count the check against the same per-member lockout as a login.
	now := s.now()
	var retry time.Duration
	err = s.store.UpdateMember(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
		st, r := s.opts.Lockout.reserve(lockStateOf(old), now)
		if retry = r; r > 0 {
			return old, errThrottled
		}
		return st.applyTo(old), nil
	})
	if errors.Is(err, errThrottled) {
		s.event(ctx, storage.Event{Type: EventPasswordChangeFail, MemberID: m.ID, Method: MethodPassword,
			Reason: ReasonThrottled})
		return Ended{}, &ThrottledError{RetryAfter: retry}
	}
	if err != nil {
		return Ended{}, fmt.Errorf("member: recording attempt: %w", err)
	}
	cur := normalizePassword(current)
	ok := false
	if m.PasswordHash == "" {
		err = s.hasher.DummyVerify(ctx, cur)
	} else {
		ok, _, err = s.hasher.Verify(ctx, m.PasswordHash, cur)
	}
	if err != nil && !errors.Is(err, ErrHashFormat) {
		return Ended{}, err
	}
	if !ok {
		s.event(ctx, storage.Event{Type: EventPasswordChangeFail, MemberID: m.ID, Method: MethodPassword,
			Reason: ReasonBadCredentials})
		return Ended{}, ErrInvalidCredentials
	}
	if err := s.store.UpdateMember(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
		return lockState{}.applyTo(old), nil
	}); err != nil {
		return Ended{}, fmt.Errorf("member: recording attempt: %w", err)
	}
	pw := normalizePassword(newPassword)
	if pw == cur {
		return Ended{}, ErrSamePassword
	}
	if vs := s.opts.Policy.Check(ctx, newPassword, m); len(vs) > 0 {
		return Ended{}, &PolicyError{Violations: vs}
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return Ended{}, err
	}
	// Stored only if nothing changed since the current password was read.
	c.Kind, c.Guard, c.Stamp = ChangePassword, true, m.SecurityStamp
	return s.SetPasswordHash(ctx, m.ID, hash, c)
}

// SetStatus changes a member's status. Reactivating a member also clears
// the web and telephone throttles, as an operator unlocking expects.
func (s *Service) SetStatus(ctx context.Context, memberID string, st storage.MemberStatus) error {
	switch st {
	case storage.MemberActive, storage.MemberLocked, storage.MemberDisabled:
	default:
		return fmt.Errorf("%w: %q", ErrStatus, st)
	}
	now := s.now()
	err := s.store.UpdateMember(ctx, memberID, func(old storage.Member) (storage.Member, error) {
		old.Status = st
		if st == storage.MemberActive {
			old = lockState{}.applyTo(old)
			old.PhoneFailures, old.PhoneLockedUntil = 0, time.Time{}
		}
		old.UpdatedAt = now
		return old, nil
	})
	if err != nil {
		return fmt.Errorf("member: setting status: %w", err)
	}
	s.event(ctx, storage.Event{Type: EventStatusChanged, MemberID: memberID, Success: true,
		Detail: map[string]string{"status": string(st)}})
	return nil
}
