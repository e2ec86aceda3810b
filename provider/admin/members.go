package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

func viewMember(m storage.Member) adminapi.MemberView {
	return adminapi.MemberView{
		Number: m.Number, FamilyName: m.FamilyName, GivenName: m.GivenName,
		FamilyNameLatin: m.FamilyNameLatin, GivenNameLatin: m.GivenNameLatin,
		Email: m.Email, EmailVerified: m.EmailVerified, Phone: m.Phone, PhoneVerified: m.PhoneVerified,
		Country: m.Country, Locale: m.Locale, Status: string(m.Status), OTPChannel: m.OTPChannel,
		HasPassword: m.PasswordHash != "", HasPIN: m.PINHash != "", MustChangePassword: m.MustChangePassword,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
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
	return s.withSMSNote(viewMember(m)), nil
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
// full-width digits allowed).
func (s *Service) memberByNumber(ctx context.Context, raw string) (storage.Member, error) {
	number, err := member.ParseNumber(raw)
	if err != nil {
		return storage.Member{}, adminapi.Invalid("number", "%q is not a member number (7 or 9 digits)", raw)
	}
	m, err := s.store.MemberByNumber(ctx, number)
	if errors.Is(err, storage.ErrNotFound) {
		return m, adminapi.NotFound("no member %s", number)
	}
	return m, err
}

func (s *Service) showMember(ctx context.Context, in adminapi.NumberInput) (adminapi.MemberView, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	return s.withSMSNote(viewMember(m)), nil
}

// setMemberStatus disables or re-enables a member. Disabling also ends the
// member's sessions and revokes their tokens, so that nothing issued before
// keeps working.
func (s *Service) setMemberStatus(ctx context.Context, in adminapi.StatusInput) (adminapi.MemberView, error) {
	var st storage.MemberStatus
	switch in.Status {
	case "disable", string(storage.MemberDisabled):
		st = storage.MemberDisabled
	case "enable", string(storage.MemberActive):
		st = storage.MemberActive
	default:
		return adminapi.MemberView{}, adminapi.Invalid("status", "status must be disabled or active (got %q)", in.Status)
	}
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	if err := s.members.SetStatus(ctx, m.ID, st); err != nil {
		return adminapi.MemberView{}, err
	}
	var ended, revoked int
	if st == storage.MemberDisabled {
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
	v := viewMember(m)
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
	ended, err := s.members.SetPassword(ctx, m.ID, in.Password, member.Change{Kind: member.ChangeOperator, By: member.ByOperator})
	if err != nil {
		return adminapi.PasswordOutput{}, err
	}
	return adminapi.PasswordOutput{EndedSessions: len(ended.Sessions), RevokedTokens: ended.Tokens}, nil
}
