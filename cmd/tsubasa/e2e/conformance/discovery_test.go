package conformance

import (
	"crypto/rsa"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Discovery and keys (OpenID Connect Discovery 1.0 §3, §4; RFC 8414 §2;
// OpenID Connect Core 1.0 §10.1, §15.1-15.2; RFC 7517, RFC 7518).

// discoveryEndpointVerification: oidcc-discovery-endpoint-verification.
// startProvider fetched the document at issuer + /.well-known/openid-configuration
// (§4) and checked it is 200 JSON with a lifetime.
func discoveryEndpointVerification(t *testing.T, p *provider) {
	if p.meta["issuer"] != p.s.Issuer {
		t.Errorf("issuer %v, want exactly the URL discovery was fetched under, %s (§4.3)", p.meta["issuer"], p.s.Issuer)
	}
	iss, err := url.Parse(p.s.Issuer)
	if err != nil || iss.RawQuery != "" || iss.Fragment != "" {
		t.Errorf("issuer %s: want a URL without query or fragment", p.s.Issuer)
	}
	// Endpoints: present where REQUIRED (and userinfo, RECOMMENDED and
	// served), absolute, on the issuer's own origin. The suite's issuer is
	// http on loopback (development); a production issuer must be https,
	// which config validation enforces, and the endpoints follow it.
	for _, name := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
		"revocation_endpoint", "introspection_endpoint", "end_session_endpoint"} {
		u, err := url.Parse(p.endpoint(t, name))
		if err != nil || !u.IsAbs() || u.Scheme != iss.Scheme || u.Host != iss.Host || u.Fragment != "" {
			t.Errorf("%s %v: want an absolute URL on the issuer's origin", name, p.meta[name])
		}
	}
	if _, ok := p.meta["registration_endpoint"]; ok {
		t.Error("registration_endpoint advertised: Tsubasa has no dynamic registration")
	}
	want := map[string][]string{
		// §3: REQUIRED lists, with what each MUST hold or may hold.
		"response_types_supported":              {"code"},
		"subject_types_supported":               {"public", "pairwise"},
		"id_token_signing_alg_values_supported": {"RS256", "ES256", "PS256"},
		"scopes_supported":                      {"openid", "profile", "email", "phone", "membership", "offline_access"},
		"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"},
		"response_modes_supported":              {"query", "fragment"},
		"token_endpoint_auth_methods_supported": {"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		"code_challenge_methods_supported":      {"S256"},
		"ui_locales_supported":                  {"ja", "en", "zh-Hans", "zh-Hant", "ko"},
	}
	for name, values := range want {
		if _, ok := p.meta[name].([]any); !ok {
			t.Errorf("%s = %v: want a JSON array", name, p.meta[name])
			continue
		}
		if got := p.list(name); !slices.Equal(got, values) {
			t.Errorf("%s = %v, want %v", name, got, values)
		}
	}
	scopeToken := regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`) // RFC 6749 §3.3
	for _, s := range p.list("scopes_supported") {
		if !scopeToken.MatchString(s) {
			t.Errorf("scopes_supported value %q is not a scope token", s)
		}
	}
	langTag := regexp.MustCompile(`^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$`) // BCP 47, canonical case
	for _, l := range p.list("ui_locales_supported") {
		if !langTag.MatchString(l) {
			t.Errorf("ui_locales_supported value %q is not a canonical BCP 47 tag", l)
		}
	}
	claims := p.list("claims_supported")
	for _, c := range []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "name", "email", "phone_number", "member_number"} {
		if !slices.Contains(claims, c) {
			t.Errorf("claims_supported lacks %s, which Tsubasa issues", c)
		}
	}
	if slices.Contains(claims, "address") {
		t.Error("claims_supported lists address, which Tsubasa never issues")
	}
	// What is not supported says false, not nothing: absent
	// request_uri_parameter_supported means true.
	for _, name := range []string{"request_uri_parameter_supported", "frontchannel_logout_supported"} {
		if v, ok := p.meta[name]; !ok || v != false {
			t.Errorf("%s = %v (present %v), want false", name, v, ok)
		}
	}
	// Back-Channel Logout 1.0 §2.1: both are served (README
	// "Back-channel logout"), and every ID token carries sid.
	for _, name := range []string{"backchannel_logout_supported", "backchannel_logout_session_supported"} {
		if v := p.meta[name]; v != true {
			t.Errorf("%s = %v, want true", name, v)
		}
	}
	// The claims parameter (§5.5) is read.
	if v := p.meta["claims_parameter_supported"]; v != true {
		t.Errorf("claims_parameter_supported = %v, want true", v)
	}
	// Signed request objects, from clients with keys (§6.1); never
	// unsigned ones.
	if v := p.meta["request_parameter_supported"]; v != true {
		t.Errorf("request_parameter_supported = %v, want true", v)
	}
	if algs := p.list("request_object_signing_alg_values_supported"); len(algs) == 0 || slices.Contains(algs, "none") {
		t.Errorf("request_object_signing_alg_values_supported = %v: want signature algorithms, and never none", algs)
	}
	checkKeySet(t, p)
}

// checkKeySet: the key set holds public signing keys only, each with a
// kid, one at least for every advertised algorithm (RFC 7517 §4, RFC
// 7518 §6.3.1; Core §10.1).
func checkKeySet(t *testing.T, p *provider) {
	t.Helper()
	kids := map[string]bool{}
	algs := map[string]bool{}
	for _, k := range p.keys.Keys {
		switch {
		case k.KeyID == "" || kids[k.KeyID]:
			t.Errorf("key without a kid of its own: %q", k.KeyID)
		case !k.IsPublic() || !k.Valid():
			t.Errorf("key %s is private or invalid", k.KeyID)
		case k.Use != "sig":
			t.Errorf("key %s: use %q, want sig", k.KeyID, k.Use)
		}
		if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
			t.Errorf("key %s: RSA %d bits, want 2048 or more (RFC 7518 §3.3)", k.KeyID, rk.N.BitLen())
		}
		kids[k.KeyID], algs[k.Algorithm] = true, true
	}
	for _, alg := range p.list("id_token_signing_alg_values_supported") {
		if !algs[alg] {
			t.Errorf("%s is advertised and the key set has no key for it", alg)
		}
	}
	// The raw members: no private part of any key type (RFC 7518 §6.2.2, §6.3.2, §6.4).
	raw := get(t, p.endpoint(t, "jwks_uri"), "")
	for _, member := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`, `"oth"`} {
		if strings.Contains(string(raw.Body), member+":") {
			t.Errorf("the key set has a %s member: %s", member, raw.Body)
		}
	}
}

// idTokenSignature: oidcc-idtoken-signature. ID tokens are signed with
// the algorithm each client registered, RS256 by default and ES256 on
// request, by a key of the set its kid names; a token altered after
// signing does not verify.
func idTokenSignature(t *testing.T, p *provider) {
	for _, c := range []client{web, webES256} {
		tk, id := p.flow(t, p.newAuthz(c, "openid"))
		if id.header.Algorithm != c.alg {
			t.Errorf("client %s: ID token alg %s, want %s", c.id, id.header.Algorithm, c.alg)
		}
		parts := strings.Split(tk.idToken, ".")
		sig := []byte(parts[2])
		if i := len(sig) / 2; sig[i] == 'A' { // still base64url, no longer the signature
			sig[i] = 'B'
		} else {
			sig[i] = 'A'
		}
		forged := parts[0] + "." + parts[1] + "." + string(sig)
		if err := verifiesWithKeySet(p, forged); err == nil {
			t.Errorf("client %s: an altered ID token verifies", c.id)
		}
	}
}

// idTokenUnsigned: oidcc-idtoken-unsigned, refused. alg none is not
// advertised, no client can register it, and no ID token carries it (the
// certification suite skips the module for such a provider; here the
// refusal itself is the test).
func idTokenUnsigned(t *testing.T, p *provider) {
	if slices.Contains(p.list("id_token_signing_alg_values_supported"), "none") {
		t.Error("id_token_signing_alg_values_supported lists none")
	}
	out := p.s.CLI(t, true, "client", "add", "--id", "unsigned", "--redirect-uri", p.redirect, "--id-token-alg", "none")
	if !strings.Contains(out, "RS256") {
		t.Errorf("client add --id-token-alg none: the refusal does not say what is allowed:\n%s", out)
	}
	p.s.CLI(t, true, "client", "show", "unsigned")
}
