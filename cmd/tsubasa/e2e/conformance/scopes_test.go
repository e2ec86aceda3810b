package conformance

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// Scopes and claims (OpenID Connect Core 1.0 §5): what each scope releases
// at the UserInfo endpoint, and the requests for claims Tsubasa does not
// support (address, the claims parameter), which must still succeed.

// scopeClaims are the claims each scope releases for the suite's member
// (§5.4), with the values the member was created with where they are fixed.
var scopeClaims = map[string]map[string]any{
	"profile": {"name": "空野 花子", "family_name": "空野", "given_name": "花子", "family_name#en": "SORANO",
		"given_name#en": "HANAKO", "locale": "ja", "updated_at": nil},
	"email": {"email": "hanako@example.com", "email_verified": nil},
	"phone": {"phone_number": "+819012345678", "phone_number_verified": nil},
}

// scopeModule requests openid and scopes, and checks that userinfo holds
// exactly the claims of the supported ones among them: those it asked
// for (with the member's values), none of the others.
func scopeModule(t *testing.T, p *provider, scopes ...string) map[string]any {
	t.Helper()
	tk, id := p.flow(t, p.newAuthz(web, "openid "+strings.Join(scopes, " ")))
	claims := p.userinfo(t, getHeader, tk.access, id.Subject)
	for scope, want := range scopeClaims {
		asked := slices.Contains(scopes, scope)
		for name, value := range want {
			got, ok := claims[name]
			switch {
			case asked && !ok:
				t.Errorf("scope %s: userinfo lacks %s: %v", scope, name, claims)
			case asked && value != nil && got != value:
				t.Errorf("scope %s: %s = %v, want %v", scope, name, got, value)
			case !asked && ok:
				t.Errorf("userinfo releases %s without the %s scope", name, scope)
			}
		}
	}
	for _, name := range []string{"email_verified", "phone_number_verified"} {
		if v, ok := claims[name]; ok {
			if _, isBool := v.(bool); !isBool {
				t.Errorf("%s = %v (%T), want a JSON boolean (§5.1)", name, v, v)
			}
		}
	}
	if v, ok := claims["updated_at"]; ok {
		if _, isNum := v.(float64); !isNum {
			t.Errorf("updated_at = %v, want a number of seconds (§5.1)", v)
		}
	}
	if _, ok := claims["address"]; ok {
		t.Errorf("userinfo releases address, which Tsubasa does not hold: %v", claims["address"])
	}
	// The code flow's access token reaches userinfo, so contacts stay
	// out of the ID token (§5.4; the README says so).
	for _, name := range []string{"email", "email_verified", "phone_number", "phone_number_verified"} {
		if _, ok := id.claims[name]; ok {
			t.Errorf("the ID token carries %s", name)
		}
	}
	return claims
}

// scopeProfile: oidcc-scope-profile.
func scopeProfile(t *testing.T, p *provider) { scopeModule(t, p, "profile") }

// scopeEmail: oidcc-scope-email.
func scopeEmail(t *testing.T, p *provider) { scopeModule(t, p, "email") }

// scopePhone: oidcc-scope-phone.
func scopePhone(t *testing.T, p *provider) { scopeModule(t, p, "phone") }

// scopeAddress: oidcc-scope-address. Tsubasa keeps no postal address:
// the scope is not advertised, and a request for it succeeds with the
// scope left out of the grant (RFC 6749 §3.3), which the token response
// says (checked by finish).
func scopeAddress(t *testing.T, p *provider) {
	if slices.Contains(p.list("scopes_supported"), "address") {
		t.Error("scopes_supported lists address, which Tsubasa does not hold")
	}
	scopeModule(t, p, "address")
}

// scopeAll: oidcc-scope-all, every standard scope at once; and for a
// member without a phone, a Latin name or a language, those claims are
// left out rather than sent empty (§5.3.2, checked by userinfo).
func scopeAll(t *testing.T, p *provider) {
	scopeModule(t, p, "profile", "email", "address", "phone")

	b := e2e.NewBrowser(t, p.s)
	a := p.newAuthz(web, "openid profile email address phone")
	tk, id := p.finish(t, a, login(t, b, p.start(t, b, a), otherNumber, otherPass), idWant{})
	claims := p.userinfo(t, getHeader, tk.access, id.Subject)
	for _, name := range []string{"phone_number", "phone_number_verified", "family_name#en", "given_name#en"} {
		if _, ok := claims[name]; ok {
			t.Errorf("userinfo of a member without it releases %s: %v", name, claims[name])
		}
	}
	if claims["name"] != "海野 太郎" || claims["email"] != "taro@example.com" {
		t.Errorf("userinfo of the second member: %v", claims)
	}
}

// claimsEssential: oidcc-claims-essential. The claims parameter is
// supported (discovery says so): it asks for claims, and the scopes
// granted decide what is released, wherever it is asked for (consent is
// given by scope; README "Partner apps"). name, asked for at userinfo as
// an essential claim, comes with the profile scope; without it nothing is
// released beyond the openid scope's, at userinfo or in the ID token.
func claimsEssential(t *testing.T, p *provider) {
	if v, ok := p.meta["claims_parameter_supported"]; !ok || v != true {
		t.Errorf("claims_parameter_supported = %v (present %v), want true", v, ok)
	}
	req, _ := json.Marshal(map[string]any{"userinfo": map[string]any{"name": map[string]bool{"essential": true}}})
	a := p.newAuthz(web, "openid profile").set("claims", string(req))
	tk, id := p.flow(t, a)
	if claims := p.userinfo(t, getHeader, tk.access, id.Subject); claims["name"] == nil {
		t.Errorf("userinfo for the profile scope lacks name: %v", claims)
	}
	a = p.newAuthz(web, "openid").set("claims", string(req))
	tk, id = p.flow(t, a)
	if _, ok := id.claims["name"]; ok {
		t.Errorf("ID token carries name, asked for (if at all) at userinfo only: %v", id.claims)
	}
	if claims := p.userinfo(t, getHeader, tk.access, id.Subject); claims["name"] != nil {
		t.Errorf("userinfo releases name without the profile scope: %v", claims)
	}
}

// claimsLocales: oidcc-claims-locales. claims_locales is OPTIONAL
// (§5.2); the request succeeds, and the member's Latin name stays
// available as a language-tagged claim whatever is asked.
func claimsLocales(t *testing.T, p *provider) {
	for _, locales := range []string{"en", "ja", "de fr"} {
		tk, id := p.flow(t, p.newAuthz(web, "openid profile").set("claims_locales", locales))
		claims := p.userinfo(t, getHeader, tk.access, id.Subject)
		if claims["family_name#en"] != "SORANO" || claims["family_name"] != "空野" {
			t.Errorf("claims_locales=%s: userinfo %v", locales, claims)
		}
	}
}
