package provider

import (
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"tsubasa/storage"
)

// setClaims releases a member's claims for the granted scopes only.
func setClaims(info *oidc.UserInfo, m storage.Member, scopes []string) {
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = m.DisplayName()
		info.FamilyName = m.FamilyName
		info.GivenName = m.GivenName
		if m.FamilyName == "" && m.GivenName == "" {
			info.FamilyName, info.GivenName = m.FamilyNameLatin, m.GivenNameLatin
		} else if m.FamilyNameLatin != "" || m.GivenNameLatin != "" {
			// Latin forms as language-tagged claims (OpenID Connect Core §5.2).
			info.AppendClaims("family_name#en", m.FamilyNameLatin)
			info.AppendClaims("given_name#en", m.GivenNameLatin)
		}
		if m.Locale != "" {
			info.Locale = oidc.NewLocale(language.Make(m.Locale))
		}
		info.UpdatedAt = oidc.FromTime(m.UpdatedAt)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && m.Email != "" {
		info.Email = m.Email
		info.EmailVerified = oidc.Bool(m.EmailVerified)
	}
	if slices.Contains(scopes, oidc.ScopePhone) && m.Phone != "" {
		info.PhoneNumber = m.Phone
		info.PhoneNumberVerified = oidc.Bool(m.PhoneVerified)
	}
	if slices.Contains(scopes, ScopeMembership) {
		info.AppendClaims("member_number", m.Number)
	}
}
