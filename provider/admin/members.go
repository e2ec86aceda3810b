package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// memberInput is a new member given by an operator.
type memberInput struct {
	Number          string `json:"number"`
	Password        string `json:"password,omitempty"`
	PIN             string `json:"pin,omitempty"`
	FamilyName      string `json:"family_name,omitempty"`
	GivenName       string `json:"given_name,omitempty"`
	FamilyNameLatin string `json:"family_name_latin,omitempty"`
	GivenNameLatin  string `json:"given_name_latin,omitempty"`
	Email           string `json:"email,omitempty"`
	Phone           string `json:"phone,omitempty"`
	Country         string `json:"country,omitempty"`
	Locale          string `json:"locale,omitempty"`
}

// memberView is a member as shown to the operator: whether credentials are
// set, never their hashes.
type memberView struct {
	Number             string    `json:"number"`
	FamilyName         string    `json:"family_name,omitempty"`
	GivenName          string    `json:"given_name,omitempty"`
	FamilyNameLatin    string    `json:"family_name_latin,omitempty"`
	GivenNameLatin     string    `json:"given_name_latin,omitempty"`
	Email              string    `json:"email,omitempty"`
	EmailVerified      bool      `json:"email_verified"`
	Phone              string    `json:"phone,omitempty"`
	PhoneVerified      bool      `json:"phone_verified"`
	Country            string    `json:"country,omitempty"`
	Locale             string    `json:"locale,omitempty"`
	Status             string    `json:"status"`
	OTPChannel         string    `json:"otp_channel"`
	HasPassword        bool      `json:"has_password"`
	HasPIN             bool      `json:"has_pin"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// Set by disable: what was ended so the member is out everywhere.
	EndedSessions int `json:"ended_sessions,omitempty"`
	RevokedTokens int `json:"revoked_tokens,omitempty"`
	// Set by create and show when the phone cannot get SMS codes: why.
	SMSRefused string `json:"sms_refused,omitempty"`
}

func viewMember(m storage.Member) memberView {
	return memberView{
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
func (o *adminOps) createMember(ctx context.Context, in memberInput) (memberView, error) {
	m, err := o.members.CreateMember(ctx, member.NewMember{
		Number: in.Number, Password: in.Password, PIN: in.PIN,
		FamilyName: in.FamilyName, GivenName: in.GivenName,
		FamilyNameLatin: in.FamilyNameLatin, GivenNameLatin: in.GivenNameLatin,
		Email: in.Email, Phone: in.Phone, Country: in.Country, Locale: in.Locale,
		Verified: true,
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		n, _ := member.ParseNumber(in.Number)
		return memberView{}, conflict("number", "member number %s is taken", n)
	}
	if err != nil {
		return memberView{}, err
	}
	return o.withSMSNote(viewMember(m)), nil
}

// withSMSNote says when the member's phone cannot receive SMS codes (its
// country is not in otp.sms_countries, or it is not a mobile number):
// the number is kept, for the phone claim, but SMS is never sent to it,
// and the operator should know that at once rather than from a member.
func (o *adminOps) withSMSNote(v memberView) memberView {
	if v.Phone == "" {
		return v
	}
	var de *notify.SMSDestinationError
	if errors.As(notify.NewSMSPolicy(o.cfg.OTP.SMSCountries).Check(v.Phone), &de) {
		v.SMSRefused = fmt.Sprintf("%s (region %s; otp.sms_countries: %s)", de.Reason, orDash(de.Region),
			strings.Join(o.cfg.OTP.SMSCountries, ", "))
	}
	return v
}

// memberByNumber finds a member by number as typed (spaces, hyphens and
// full-width digits allowed).
func (o *adminOps) memberByNumber(ctx context.Context, raw string) (storage.Member, error) {
	number, err := member.ParseNumber(raw)
	if err != nil {
		return storage.Member{}, invalid("number", "%q is not a member number (7 or 9 digits)", raw)
	}
	m, err := o.store.MemberByNumber(ctx, number)
	if errors.Is(err, storage.ErrNotFound) {
		return m, notFound("no member %s", number)
	}
	return m, err
}

func (o *adminOps) showMember(ctx context.Context, number string) (memberView, error) {
	m, err := o.memberByNumber(ctx, number)
	if err != nil {
		return memberView{}, err
	}
	return o.withSMSNote(viewMember(m)), nil
}

// setMemberStatus disables or re-enables a member. Disabling also ends the
// member's sessions and revokes their tokens, so that nothing issued before
// keeps working.
func (o *adminOps) setMemberStatus(ctx context.Context, number, status string) (memberView, error) {
	var st storage.MemberStatus
	switch status {
	case "disable", string(storage.MemberDisabled):
		st = storage.MemberDisabled
	case "enable", string(storage.MemberActive):
		st = storage.MemberActive
	default:
		return memberView{}, invalid("status", "status must be disabled or active (got %q)", status)
	}
	m, err := o.memberByNumber(ctx, number)
	if err != nil {
		return memberView{}, err
	}
	if err := o.members.SetStatus(ctx, m.ID, st); err != nil {
		return memberView{}, err
	}
	var ended, revoked int
	if st == storage.MemberDisabled {
		if ended, err = o.store.DeleteSessions(ctx, storage.SessionFilter{MemberID: m.ID}); err != nil {
			return memberView{}, fmt.Errorf("member disabled, but ending sessions failed: %w", err)
		}
		if revoked, err = o.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: m.ID}); err != nil {
			return memberView{}, fmt.Errorf("member disabled, but revoking tokens failed: %w", err)
		}
	}
	if m, err = o.store.MemberByID(ctx, m.ID); err != nil {
		return memberView{}, err
	}
	v := viewMember(m)
	v.EndedSessions, v.RevokedTokens = ended, revoked
	return v, nil
}

// passwordOutput is what setting a password ended: like every credential
// change it ends the member's sessions and revokes their tokens.
type passwordOutput struct {
	EndedSessions int `json:"ended_sessions"`
	RevokedTokens int `json:"revoked_tokens"`
}

// setMemberPassword sets a member's password as an operator, through the
// member domain's credential change, so the operator's path ends the
// member's sessions and tokens as the member's own pages do.
func (o *adminOps) setMemberPassword(ctx context.Context, number, password string) (passwordOutput, error) {
	if password == "" {
		return passwordOutput{}, invalid("password", "a password is required")
	}
	m, err := o.memberByNumber(ctx, number)
	if err != nil {
		return passwordOutput{}, err
	}
	ended, err := o.members.SetPassword(ctx, m.ID, password, member.Change{Kind: member.ChangeOperator, By: member.ByOperator})
	if err != nil {
		return passwordOutput{}, err
	}
	return passwordOutput{EndedSessions: len(ended.Sessions), RevokedTokens: ended.Tokens}, nil
}

// keyView is a signing key as shown to the operator: never the private key.
type keyView struct {
	ID        string    `json:"kid"`
	Algorithm string    `json:"alg"`
	Status    string    `json:"status"` // active, retired (still published) or expired
	CreatedAt time.Time `json:"created_at"`
	RetiredAt time.Time `json:"retired_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (o *adminOps) viewKeys(keys []storage.SigningKey) []keyView {
	now := o.now()
	out := make([]keyView, len(keys))
	for i, k := range keys {
		status := "active"
		switch {
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			status = "expired"
		case !k.RetiredAt.IsZero():
			status = "retired"
		}
		out[i] = keyView{ID: k.ID, Algorithm: k.Algorithm, Status: status,
			CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt}
	}
	return out
}

func (o *adminOps) listKeys(ctx context.Context) ([]keyView, error) {
	keys, err := o.store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	return o.viewKeys(keys), nil
}

func (o *adminOps) rotateKeysOp(ctx context.Context) ([]keyView, error) {
	keys, err := o.rotateKeys(ctx)
	if err != nil {
		return nil, err
	}
	return o.viewKeys(keys), nil
}

// firstField is the alphabetically first field of fe, for the API's field.
func firstField(fe *member.FieldErrors) string {
	fields := make([]string, 0, len(fe.Fields))
	for f := range fe.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// memberFieldsMessage words fe for the operator, spelling out password
// rules, which FieldErrors names only by catalog key.
func memberFieldsMessage(fe *member.FieldErrors) string {
	parts := strings.Split(strings.TrimPrefix(fe.Error(), "member: invalid fields: "), "; ")
	for i, p := range parts {
		if strings.HasPrefix(p, "password: ") && len(fe.Violations) > 0 {
			parts[i] = "password: " + policyMessage(fe.Violations)
		}
	}
	return "invalid member: " + strings.Join(parts, "; ")
}

func policyMessage(vs []member.Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		switch v.Rule {
		case member.RuleLength:
			parts[i] = fmt.Sprintf("must be %d to %d characters", v.Min, v.Max)
		case member.RuleClasses:
			parts[i] = fmt.Sprintf("must mix at least %d of upper case, lower case, digits and symbols", v.Min)
		case member.RuleMemberNumber:
			parts[i] = "must not contain the member number"
		case member.RuleName:
			parts[i] = "must not contain the member's name"
		case member.RuleCommon:
			parts[i] = "must not be a well-known password"
		case member.RuleBreached:
			parts[i] = "must not appear in known data breaches"
		default:
			parts[i] = v.Rule
		}
	}
	return strings.Join(parts, ", ")
}

// busy says the server's password hashing is saturated.
var busy = &adminError{Status: http.StatusServiceUnavailable, Message: "the server is busy hashing passwords; try again"}
