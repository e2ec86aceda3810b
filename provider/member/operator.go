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

// What an operator (the admin API) changes in a member account besides
// passwords and status: the profile and contacts, and lockouts.

// Event types of operator changes.
const (
	EventProfileChanged = "profile.changed"
	EventUnlocked       = "member.unlocked"
	// EventContactChanged: an email address or mobile number changed.
	EventContactChanged = "contact.changed"
)

// ErrPrecondition wraps the error of a Change.Check that refused a change.
var ErrPrecondition = errors.New("member: the change's precondition does not hold")

// ProfileUpdate is an operator's change to a member's profile and
// contacts. A nil field stays as it is; an empty string clears an optional
// field (a family name clears only while the other one is set). Email and
// phone given by an operator count as verified.
type ProfileUpdate struct {
	FamilyName, GivenName, FamilyNameLatin, GivenNameLatin *string
	Email, Phone, Country, Locale                          *string
}

// UpdateProfile applies u to the member as an operator: every field is
// validated first (*FieldErrors naming each one at fault). A change of
// email or phone is a credential change (ChangeContact, CredentialChanged:
// every session ends and every token is revoked); a change of names,
// country or locale alone is not. c.Check, when set, runs on the stored
// member in the same atomic update and refuses the change with its error
// wrapped in ErrPrecondition. It returns the member as stored, and what
// a credential change ended.
func (s *Service) UpdateProfile(ctx context.Context, memberID string, u ProfileUpdate, c Change) (storage.Member, Ended, error) {
	m, err := s.store.MemberByID(ctx, memberID)
	if err != nil {
		return storage.Member{}, Ended{}, fmt.Errorf("member: %w", err)
	}
	apply, contacts, fe := u.validate(m)
	if fe != nil {
		return storage.Member{}, Ended{}, fe
	}
	now, check := s.now(), c.Check
	update := func(old storage.Member) (storage.Member, error) {
		if check != nil {
			if err := check(old); err != nil {
				return old, fmt.Errorf("%w: %w", ErrPrecondition, err)
			}
		}
		old = apply(old)
		old.UpdatedAt = now
		return old, nil
	}
	var ended Ended
	if len(contacts) > 0 {
		c.Kind, c.By, c.Check = ChangeContact, ByOperator, nil // update checks
		c.Update = update
		c.Events = slices.Clone(c.Events)
		for _, f := range contacts {
			c.Events = append(c.Events, storage.Event{Type: EventContactChanged, Success: true,
				Detail: map[string]string{"field": f, "by": ByOperator}})
		}
		ended, err = s.CredentialChanged(ctx, memberID, c)
	} else {
		err = s.updateWithEvent(ctx, memberID, update, storage.Event{Type: EventProfileChanged, MemberID: memberID,
			Success: true, IP: c.IP, UserAgent: c.UserAgent, Detail: map[string]string{"by": ByOperator}})
	}
	if err != nil {
		return storage.Member{}, Ended{}, err
	}
	m, err = s.store.MemberByID(ctx, memberID)
	if err != nil {
		return storage.Member{}, ended, fmt.Errorf("member: %w", err)
	}
	return m, ended, nil
}

// validate checks every field of u against m and returns the change to
// apply and which contacts it changes.
func (u ProfileUpdate) validate(m storage.Member) (func(storage.Member) storage.Member, []string, *FieldErrors) {
	fe := &FieldErrors{}
	next := m
	var err error
	for _, f := range []struct {
		field string
		in    *string
		out   *string
		latin bool
	}{
		{"family_name", u.FamilyName, &next.FamilyName, false},
		{"given_name", u.GivenName, &next.GivenName, false},
		{"family_name_latin", u.FamilyNameLatin, &next.FamilyNameLatin, true},
		{"given_name_latin", u.GivenNameLatin, &next.GivenNameLatin, true},
	} {
		if f.in != nil {
			if *f.out, err = cleanName(*f.in, f.latin); err != nil {
				fe.add(f.field, err)
			}
		}
	}
	if next.FamilyName == "" && next.FamilyNameLatin == "" {
		fe.add("family_name", ErrNameRequired)
	}
	if u.Country != nil {
		if next.Country, err = cleanCountry(*u.Country); err != nil {
			fe.add("country", err)
		}
	}
	if u.Locale != nil {
		if next.Locale, err = cleanLocale(*u.Locale); err != nil {
			fe.add("locale", err)
		}
	}
	var contacts []string
	if u.Email != nil {
		next.Email, next.EmailVerified = "", false
		if strings.TrimSpace(*u.Email) != "" {
			if next.Email, err = ParseEmail(*u.Email); err != nil {
				fe.add("email", err)
			}
			next.EmailVerified = true
		}
		if next.Email != m.Email || next.EmailVerified != m.EmailVerified {
			contacts = append(contacts, "email")
		}
	}
	if u.Phone != nil {
		next.Phone, next.PhoneVerified = "", false
		if strings.TrimSpace(*u.Phone) != "" {
			region := next.Country
			if region == "" {
				region = "JP"
			}
			if next.Phone, err = ParsePhone(*u.Phone, region); err != nil {
				fe.add("phone", err)
			}
			next.PhoneVerified = true
		}
		if next.Phone != m.Phone || next.PhoneVerified != m.PhoneVerified {
			contacts = append(contacts, "phone")
		}
	}
	if !fe.empty() {
		return nil, nil, fe
	}
	next.OTPChannel = otpChannel(next)
	return func(old storage.Member) storage.Member {
		// Only the fields u names: the rest (a failed login counted
		// meanwhile) is as stored now.
		for _, f := range []struct {
			set      bool
			dst, src *string
		}{
			{u.FamilyName != nil, &old.FamilyName, &next.FamilyName},
			{u.GivenName != nil, &old.GivenName, &next.GivenName},
			{u.FamilyNameLatin != nil, &old.FamilyNameLatin, &next.FamilyNameLatin},
			{u.GivenNameLatin != nil, &old.GivenNameLatin, &next.GivenNameLatin},
			{u.Country != nil, &old.Country, &next.Country},
			{u.Locale != nil, &old.Locale, &next.Locale},
		} {
			if f.set {
				*f.dst = *f.src
			}
		}
		if u.Email != nil {
			old.Email, old.EmailVerified = next.Email, next.EmailVerified
		}
		if u.Phone != nil {
			old.Phone, old.PhoneVerified = next.Phone, next.PhoneVerified
		}
		old.OTPChannel = otpChannel(old)
		return old
	}, contacts, nil
}

// otpChannel keeps m's choice of where one-time passwords go while that
// destination is verified, and otherwise moves it to the one that is.
func otpChannel(m storage.Member) string {
	switch {
	case m.OTPChannel == storage.ChannelSMS && m.Phone != "" && m.PhoneVerified:
		return storage.ChannelSMS
	case m.Email != "" && m.EmailVerified:
		return storage.ChannelEmail
	case m.Phone != "" && m.PhoneVerified:
		return storage.ChannelSMS
	}
	return storage.ChannelEmail
}

// RemoveContacts removes the member's email address (email) or mobile
// number (phone) as a destination of one-time passwords, for a member who
// lost the mailbox or the phone: the address or number is cleared, and
// codes go only to what is left. It is a credential change (ChangeContact):
// every session ends and every token is revoked.
func (s *Service) RemoveContacts(ctx context.Context, memberID string, email, phone bool, c Change) (storage.Member, Ended, error) {
	var fields []string
	if email {
		fields = append(fields, "email")
	}
	if phone {
		fields = append(fields, "phone")
	}
	if len(fields) == 0 {
		return storage.Member{}, Ended{}, errors.New("member: remove contacts: name the email, the phone or both")
	}
	c.Kind, c.By = ChangeContact, ByOperator
	c.Update = func(old storage.Member) (storage.Member, error) {
		if email {
			old.Email, old.EmailVerified = "", false
		}
		if phone {
			old.Phone, old.PhoneVerified = "", false
		}
		old.OTPChannel = otpChannel(old)
		return old, nil
	}
	c.Events = slices.Clone(c.Events)
	for _, f := range fields {
		c.Events = append(c.Events, storage.Event{Type: EventContactChanged, Success: true,
			Detail: map[string]string{"field": f, "to": "", "by": ByOperator}})
	}
	ended, err := s.CredentialChanged(ctx, memberID, c)
	if err != nil {
		return storage.Member{}, Ended{}, err
	}
	m, err := s.store.MemberByID(ctx, memberID)
	if err != nil {
		return storage.Member{}, ended, fmt.Errorf("member: %w", err)
	}
	return m, ended, nil
}

// Unlock clears the member's login lockouts as an operator: the web
// lockout and its failure count, the telephone PIN lockout, and the
// lockouts of the member's known devices; a member locked by status is
// active again. A disabled member stays disabled (enable is its own act).
// It changes no credential, so sessions stay.
func (s *Service) Unlock(ctx context.Context, memberID string, c Change) (storage.Member, error) {
	devs, err := s.store.ListDevices(ctx, memberID)
	if err != nil {
		return storage.Member{}, fmt.Errorf("member: unlock: %w", err)
	}
	for _, d := range devs {
		if d.FailedLogins == 0 && d.LockedUntil.IsZero() {
			continue
		}
		err := s.store.UpdateDevice(ctx, memberID, d.ID, func(d storage.Device) (storage.Device, error) {
			return lockState{}.applyToDevice(d), nil
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return storage.Member{}, fmt.Errorf("member: unlock device: %w", err)
		}
	}
	now := s.now()
	err = s.updateWithEvent(ctx, memberID, func(old storage.Member) (storage.Member, error) {
		old = lockState{}.applyTo(old)
		old.PhoneFailures, old.PhoneLockedUntil = 0, time.Time{}
		if old.Status == storage.MemberLocked {
			old.Status = storage.MemberActive
		}
		old.UpdatedAt = now
		return old, nil
	}, storage.Event{Type: EventUnlocked, MemberID: memberID, Success: true, IP: c.IP, UserAgent: c.UserAgent,
		Detail: map[string]string{"by": ByOperator}})
	if err != nil {
		return storage.Member{}, fmt.Errorf("member: unlock: %w", err)
	}
	return s.store.MemberByID(ctx, memberID)
}

// Locked reports whether a login lockout holds m at now: the web's, the
// telephone's, or a lock by status.
func Locked(m storage.Member, now time.Time) bool {
	return m.Status == storage.MemberLocked || now.Before(m.LockedUntil) || now.Before(m.PhoneLockedUntil)
}
