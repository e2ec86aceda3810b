package admin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

func (s *Service) viewMember(m storage.Member) adminapi.MemberView {
	v := memberState(m)
	v.Version = memberVersion(m)
	v.Locked = member.Locked(m, s.now())
	return v
}

// memberState is what the operator sees of m that only a change to the
// member alters (not the clock, not a request's outcome).
func memberState(m storage.Member) adminapi.MemberView {
	return adminapi.MemberView{
		ID: m.ID, Number: m.Number, FamilyName: m.FamilyName, GivenName: m.GivenName,
		FamilyNameLatin: m.FamilyNameLatin, GivenNameLatin: m.GivenNameLatin,
		Email: m.Email, EmailVerified: m.EmailVerified, Phone: m.Phone, PhoneVerified: m.PhoneVerified,
		Country: m.Country, Locale: m.Locale, Status: string(m.Status), OTPChannel: m.OTPChannel,
		HasPassword: m.PasswordHash != "", HasPIN: m.PINHash != "", MustChangePassword: m.MustChangePassword,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

// memberVersion identifies m's state as the operator sees it (the HTTP
// API's ETag): a hash of memberState, with the lockout, so that an update
// made on what an agent read fails once anything it showed has changed.
func memberVersion(m storage.Member) string {
	b, _ := json.Marshal(struct {
		adminapi.MemberView
		LockedUntil, PhoneLockedUntil time.Time
	}{memberState(m), m.LockedUntil, m.PhoneLockedUntil})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// createMember creates a member. Contacts given by an operator count as
// verified: the operator vouches for them.
func (s *Service) createMember(ctx context.Context, in adminapi.MemberInput) (adminapi.MemberView, error) {
	m, err := s.members.CreateMember(ctx, member.NewMember{
		Number: in.Number, Password: in.Password, PIN: in.PIN,
		FamilyName: in.FamilyName, GivenName: in.GivenName,
		FamilyNameLatin: in.FamilyNameLatin, GivenNameLatin: in.GivenNameLatin,
		Email: in.Email, Phone: in.Phone, Country: in.Country, Locale: in.Locale,
		Verified: true,
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		n, _ := member.ParseNumber(in.Number)
		return adminapi.MemberView{}, adminapi.Conflict("number", "member number %s is taken", n)
	}
	if err != nil {
		return adminapi.MemberView{}, err
	}
	concerns(ctx, m.ID)
	return s.withSMSNote(s.viewMember(m)), nil
}

// withSMSNote says when the member's phone cannot receive SMS codes (its
// country is not in otp.sms_countries, or it is not a mobile number):
// the number is kept, for the phone claim, but SMS is never sent to it,
// and the operator should know that at once rather than from a member.
func (s *Service) withSMSNote(v adminapi.MemberView) adminapi.MemberView {
	if v.Phone == "" {
		return v
	}
	var de *notify.SMSDestinationError
	if errors.As(s.sms.Check(v.Phone), &de) {
		region := de.Region
		if region == "" {
			region = "-"
		}
		v.SMSRefused = fmt.Sprintf("%s (region %s; otp.sms_countries: %s)", de.Reason, region,
			strings.Join(s.countries, ", "))
	}
	return v
}

// memberByNumber finds a member by number as typed (spaces, hyphens and
// full-width digits allowed), or by id (the sub of first-party tokens,
// 26 lower-case letters and digits, which no number parses as), and notes
// the member as the call's subject.
func (s *Service) memberByNumber(ctx context.Context, raw string) (storage.Member, error) {
	number, err := member.ParseNumber(raw)
	var m storage.Member
	switch {
	case err == nil:
		if m, err = s.store.MemberByNumber(ctx, number); errors.Is(err, storage.ErrNotFound) {
			return m, adminapi.NotFound("no member %s", number)
		}
	case memberID(raw):
		if m, err = s.store.MemberByID(ctx, raw); errors.Is(err, storage.ErrNotFound) {
			return m, adminapi.NotFound("no member with id %s", raw)
		}
	default:
		return storage.Member{}, adminapi.Invalid("number", "%q is not a member number (7 or 9 digits) or a member id", raw)
	}
	if err == nil {
		concerns(ctx, m.ID)
	}
	return m, err
}

// memberID reports whether s has the shape of a member id: lower-case
// unpadded base32 of 16 bytes.
func memberID(s string) bool {
	return len(s) == 26 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz234567") == ""
}

func (s *Service) showMember(ctx context.Context, in adminapi.NumberInput) (adminapi.MemberView, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	return s.withSMSNote(s.viewMember(m)), nil
}

func (s *Service) disableMember(ctx context.Context, in adminapi.NumberInput) (adminapi.MemberView, error) {
	return s.setMemberStatus(ctx, in.Number, storage.MemberDisabled)
}

func (s *Service) enableMember(ctx context.Context, in adminapi.NumberInput) (adminapi.MemberView, error) {
	return s.setMemberStatus(ctx, in.Number, storage.MemberActive)
}

// setMemberStatus disables or re-enables a member. Disabling also ends the
// member's sessions and revokes their tokens, so that nothing issued before
// keeps working.
func (s *Service) setMemberStatus(ctx context.Context, number string, st storage.MemberStatus) (adminapi.MemberView, error) {
	m, err := s.memberByNumber(ctx, number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	if err := s.members.SetStatus(ctx, m.ID, st); err != nil {
		return adminapi.MemberView{}, err
	}
	var ended, revoked int
	if st == storage.MemberDisabled {
		s.logouts.EndingAll(ctx, storage.SessionFilter{MemberID: m.ID})
		if ended, err = s.store.DeleteSessions(ctx, storage.SessionFilter{MemberID: m.ID}); err != nil {
			return adminapi.MemberView{}, fmt.Errorf("member disabled, but ending sessions failed: %w", err)
		}
		if revoked, err = s.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: m.ID}); err != nil {
			return adminapi.MemberView{}, fmt.Errorf("member disabled, but revoking tokens failed: %w", err)
		}
	}
	if m, err = s.store.MemberByID(ctx, m.ID); err != nil {
		return adminapi.MemberView{}, err
	}
	v := s.viewMember(m)
	v.EndedSessions, v.RevokedTokens = ended, revoked
	return v, nil
}

// setMemberPassword sets a member's password as an operator, through the
// member domain's credential change, so the operator's path ends the
// member's sessions and tokens as the member's own pages do.
func (s *Service) setMemberPassword(ctx context.Context, in adminapi.PasswordInput) (adminapi.PasswordOutput, error) {
	if in.Password == "" {
		return adminapi.PasswordOutput{}, adminapi.Invalid("password", "a password is required")
	}
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.PasswordOutput{}, err
	}
	if err := s.requireSupport(ctx, m, in.SupportSession); err != nil {
		return adminapi.PasswordOutput{}, err
	}
	kind := member.ChangeOperator
	if in.Temporary {
		kind = member.ChangeTemporary
	}
	ended, err := s.members.SetPassword(ctx, m.ID, in.Password, change(ctx, kind))
	if err != nil {
		return adminapi.PasswordOutput{}, err
	}
	return adminapi.PasswordOutput{EndedSessions: len(ended.Sessions), RevokedTokens: ended.Tokens}, nil
}
