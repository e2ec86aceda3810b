package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// Member support: what a call centre's agent does for a member through
// the programme's systems, each through the member domain's own operation
// (provider/member), so that whatever changes a credential ends the
// member's sessions and tokens as the member's own pages do.

// errStale refuses an update whose If-Match is not the member's version.
var errStale = errors.New("the member changed since it was read")

// ifMatch is the Check of an update made on the member as read at
// version: a strong comparison (RFC 9110 §13.1.1), or "*" for any.
func ifMatch(version string) func(storage.Member) error {
	want := strings.Trim(strings.TrimSpace(version), `"`)
	return func(m storage.Member) error {
		if version == "" || strings.TrimSpace(version) == "*" || want == memberVersion(m) {
			return nil
		}
		return errStale
	}
}

// updateMember changes a member's profile and contacts as the caller last
// read them (IfMatch).
func (s *Service) updateMember(ctx context.Context, in adminapi.MemberUpdateInput) (adminapi.MemberView, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	u := member.ProfileUpdate{FamilyName: in.FamilyName, GivenName: in.GivenName, FamilyNameLatin: in.FamilyNameLatin,
		GivenNameLatin: in.GivenNameLatin, Email: in.Email, Phone: in.Phone, Country: in.Country, Locale: in.Locale}
	if u == (member.ProfileUpdate{}) {
		return adminapi.MemberView{}, adminapi.Invalid("", "the update names no field to change")
	}
	c := change(ctx, member.ChangeContact)
	c.Check = ifMatch(in.IfMatch)
	m, ended, err := s.members.UpdateProfile(ctx, m.ID, u, c)
	if errors.Is(err, errStale) {
		return adminapi.MemberView{}, adminapi.PreconditionFailed(
			"member %s changed since the version in If-Match was read; read it again", in.Number)
	}
	if err != nil {
		return adminapi.MemberView{}, err
	}
	v := s.withSMSNote(s.viewMember(m))
	v.EndedSessions, v.RevokedTokens = len(ended.Sessions), ended.Tokens
	return v, nil
}

// unlockMember clears the member's login lockouts.
func (s *Service) unlockMember(ctx context.Context, in adminapi.NumberInput) (adminapi.MemberView, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	if m.Status == storage.MemberDisabled {
		return adminapi.MemberView{}, adminapi.Conflict("number", "member %s is disabled, not locked: enable it instead", m.Number)
	}
	c := callerOf(ctx)
	if m, err = s.members.Unlock(ctx, m.ID, member.Change{By: member.ByOperator, IP: c.IP, UserAgent: c.UserAgent}); err != nil {
		return adminapi.MemberView{}, err
	}
	return s.viewMember(m), nil
}

// resetOTPDestinations removes the member's email or phone as where
// one-time passwords go.
func (s *Service) resetOTPDestinations(ctx context.Context, in adminapi.OTPResetInput) (adminapi.MemberView, error) {
	if !in.Email && !in.Phone {
		return adminapi.MemberView{}, adminapi.Invalid("", "name what to remove: email, phone or both")
	}
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberView{}, err
	}
	if err := s.requireSupport(ctx, m, in.SupportSession); err != nil {
		return adminapi.MemberView{}, err
	}
	m, ended, err := s.members.RemoveContacts(ctx, m.ID, in.Email, in.Phone, change(ctx, member.ChangeContact))
	if err != nil {
		return adminapi.MemberView{}, err
	}
	v := s.viewMember(m)
	v.EndedSessions, v.RevokedTokens = len(ended.Sessions), ended.Tokens
	return v, nil
}

// removePasskeys deletes one passkey of the member (in.ID, base64url) or
// all of them, records passkey.removed for each, and then ends every
// session and token (a passkey is removed because it may be in someone
// else's hands). Run again after a failure, it finishes the job.
func (s *Service) removePasskeys(ctx context.Context, in adminapi.PasskeysInput) (adminapi.PasskeysRemoved, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.PasskeysRemoved{}, err
	}
	if err := s.requireSupport(ctx, m, in.SupportSession); err != nil {
		return adminapi.PasskeysRemoved{}, err
	}
	pks, err := s.store.ListPasskeys(ctx, m.ID)
	if err != nil {
		return adminapi.PasskeysRemoved{}, err
	}
	if in.ID != "" {
		id, derr := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.ID, "="))
		i := -1
		for j, p := range pks {
			if derr == nil && string(p.ID) == string(id) {
				i = j
			}
		}
		if i < 0 {
			return adminapi.PasskeysRemoved{}, adminapi.NotFound("member %s has no passkey %q", m.Number, in.ID)
		}
		pks = pks[i : i+1]
	}
	var out adminapi.PasskeysRemoved
	for _, p := range pks {
		if err := s.store.DeletePasskey(ctx, p.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return out, fmt.Errorf("removing passkey: %w", err)
		}
		out.Removed++
		s.event(ctx, storage.Event{Type: eventPasskeyRemoved, MemberID: m.ID, Success: true,
			Detail: map[string]string{"name": p.Name, "by": member.ByOperator}})
	}
	ended, err := s.members.CredentialChanged(ctx, m.ID, change(ctx, member.ChangePasskey))
	if err != nil {
		return out, err
	}
	out.EndedSessions, out.RevokedTokens = len(ended.Sessions), ended.Tokens
	return out, nil
}

// eventPasskeyRemoved is package passkey's (and audit's) event type.
const eventPasskeyRemoved = "passkey.removed"

// event records an event of an operator's act, with the caller. The act
// has happened, so a failure to record it is logged, not returned.
func (s *Service) event(ctx context.Context, e storage.Event) {
	c := callerOf(ctx)
	e.IP, e.UserAgent = c.IP, c.UserAgent
	for k, v := range map[string]string{"admin_client": c.ClientID, "agent": c.Agent} {
		if v != "" {
			if e.Detail == nil {
				e.Detail = map[string]string{}
			}
			e.Detail[k] = v
		}
	}
	if err := s.audit.Record(storage.Direct(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "type", e.Type, "member_id", e.MemberID, "error", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
