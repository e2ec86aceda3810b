package loginui

import (
	"slices"
	"strings"
)

// scopeClaims lists the scopes a member may be asked about, in the order
// pages show them, with the claims each releases (see provider/claims.go).
// Every scope has consent.scope.<scope>.title and .desc in the catalogs,
// every claim consent.claim.<claim>; a test checks both languages.
var scopeClaims = []struct {
	scope  string
	claims []string
}{
	{"openid", nil}, // the pairwise sub: described by the scope itself
	{"profile", []string{"name", "name_latin", "locale", "updated_at"}},
	{"email", []string{"email", "email_verified"}},
	{"phone", []string{"phone_number", "phone_number_verified"}},
	{"membership", []string{"member_number"}},
	{"offline_access", nil},
}

// otherScopeKey describes a scope the catalogs do not know, by its name.
const otherScopeKey = "consent.scope.other"

func scopeRank(s string) int {
	for i, sc := range scopeClaims {
		if sc.scope == s {
			return i
		}
	}
	return len(scopeClaims)
}

// sortScopes orders scopes as pages show them: known ones first in their
// fixed order, then the others by name.
func sortScopes(s []string) {
	slices.SortStableFunc(s, func(a, b string) int {
		if ra, rb := scopeRank(a), scopeRank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
}

// covers reports whether a consent to granted includes every scope of requested.
func covers(granted, requested []string) bool {
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}

// union is the scopes of a and b, once each, in page order.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sortScopes(out)
	return out
}

// scopeView is one scope as a page shows it, already translated.
type scopeView struct {
	Scope  string
	Title  string
	Desc   string
	Claims []string
	New    bool // asked for beyond an earlier consent
}

// scopeViews describes scopes in the page's language. granted is the
// member's earlier consent, if any: scopes beyond it are marked new.
func scopeViews(p page, scopes, granted []string) []scopeView {
	list := union(nil, scopes)
	out := make([]scopeView, 0, len(list))
	for _, s := range list {
		v := scopeView{Scope: s, New: len(granted) > 0 && !slices.Contains(granted, s)}
		if r := scopeRank(s); r < len(scopeClaims) {
			v.Title = p.T("consent.scope." + s + ".title")
			v.Desc = p.T("consent.scope." + s + ".desc")
			for _, c := range scopeClaims[r].claims {
				v.Claims = append(v.Claims, p.T("consent.claim."+c))
			}
		} else {
			v.Title = p.T(otherScopeKey, s)
		}
		out = append(out, v)
	}
	return out
}
