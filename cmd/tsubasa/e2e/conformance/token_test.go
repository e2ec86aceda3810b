package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// The token and userinfo endpoints as the relying party calls them (RFC
// 6749 §4.1.3, §5; OpenID Connect Core 1.0 §3.1.3, §5.3).

// clientAuth is how a client authenticates at the token endpoint.
type clientAuth int

const (
	authBasic clientAuth = iota // client_secret_basic (RFC 6749 §2.3.1)
	authPost                    // client_secret_post
	authNone                    // a public client: client_id only
)

// tokenRequest posts form to the token endpoint as client c.
func (p *provider) tokenRequest(t *testing.T, c client, how clientAuth, form url.Values) e2e.Wire {
	t.Helper()
	form = cloneValues(form)
	switch how {
	case authPost:
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	case authNone:
		form.Set("client_id", c.id)
	}
	req := e2e.NewFormRequest(t.Context(), p.endpoint(t, "token_endpoint"), form.Encode())
	if how == authBasic {
		// RFC 6749 §2.3.1: id and secret form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	return e2e.WireDo(t, req)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// codeGrant is the authorization_code grant for a's code.
func (p *provider) codeGrant(a *authz, code string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.redirect}}
	if a.verifier != "" {
		f.Set("code_verifier", a.verifier)
	}
	return f
}

// tokens is a successful token response.
type tokens struct {
	access, refresh, idToken, scope string
	body                            map[string]any
}

// exchange trades a's code for tokens with client_secret_basic (or none
// for a public client) and checks the answer.
func (p *provider) exchange(t *testing.T, a *authz, code string) tokens {
	t.Helper()
	how := authBasic
	if a.c.secret == "" {
		how = authNone
	}
	return p.exchangeAs(t, a, code, how)
}

func (p *provider) exchangeAs(t *testing.T, a *authz, code string, how clientAuth) tokens {
	t.Helper()
	return p.tokenResponse(t, "code exchange", p.tokenRequest(t, a.c, how, p.codeGrant(a, code)), true)
}

// tokenResponse checks a successful token response (RFC 6749 §5.1,
// OpenID Connect Core 1.0 §3.1.3.3): 200, JSON, never cached, an
// access_token of type Bearer with its lifetime, an id_token where
// openid was granted, and token values of the allowed characters.
func (p *provider) tokenResponse(t *testing.T, what string, w e2e.Wire, wantIDToken bool) tokens {
	t.Helper()
	e2e.CheckWire(t, what, w, false)
	if w.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, w.Status, w.Body)
	}
	body := w.JSON(t)
	str := func(k string) string {
		v, ok := body[k]
		if !ok {
			return ""
		}
		s, isStr := v.(string)
		if !isStr {
			t.Errorf("%s: %s is %T, want a string", what, k, v)
		}
		return s
	}
	tk := tokens{access: str("access_token"), refresh: str("refresh_token"), idToken: str("id_token"), scope: str("scope"), body: body}
	if tk.access == "" {
		t.Errorf("%s: no access_token", what)
	}
	if tt := str("token_type"); !strings.EqualFold(tt, "Bearer") {
		t.Errorf("%s: token_type %q, want Bearer (case-insensitive, RFC 6749 §7.1)", what, tt)
	}
	if exp, ok := body["expires_in"].(float64); !ok || exp <= 0 || exp != float64(int64(exp)) {
		t.Errorf("%s: expires_in %v, want a positive whole number of seconds", what, body["expires_in"])
	}
	if wantIDToken && tk.idToken == "" {
		t.Errorf("%s: no id_token (OpenID Connect Core 1.0 §3.1.3.3)", what)
	}
	for name, v := range map[string]string{"access_token": tk.access, "refresh_token": tk.refresh} {
		if !vschar(v) {
			t.Errorf("%s: %s has characters outside RFC 6749 Appendix A (VSCHAR): %q", what, name, v)
		}
	}
	return tk
}

// vschar: %x20-7E (RFC 6749 Appendix A.12, A.17).
func vschar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// tokenError checks a token endpoint error (RFC 6749 §5.2): the status,
// the error code, a description, nothing cached, no token.
func tokenError(t *testing.T, what string, w e2e.Wire, status int, code string) {
	t.Helper()
	e2e.CheckWire(t, what, w, false)
	body := w.JSON(t)
	if w.Status != status || body["error"] != code {
		t.Errorf("%s: %d %s, want %d with error %s", what, w.Status, w.Body, status, code)
	}
	if d, _ := body["error_description"].(string); d == "" {
		t.Errorf("%s: error without a description", what)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		if _, ok := body[k]; ok {
			t.Errorf("%s: an error answer carries %s", what, k)
		}
	}
}

// userinfo calls the UserInfo endpoint the three ways OpenID Connect Core
// 1.0 §5.3.1 and RFC 6750 §2 allow.
type userinfoWay int

const (
	getHeader  userinfoWay = iota // GET, Authorization: Bearer
	postHeader                    // POST, Authorization: Bearer
	postBody                      // POST, access_token in the form body
)

func (p *provider) userinfoCall(t *testing.T, how userinfoWay, access string) e2e.Wire {
	t.Helper()
	u := p.endpoint(t, "userinfo_endpoint")
	var req *http.Request
	switch how {
	case getHeader:
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+access)
	case postHeader:
		req = e2e.NewFormRequest(t.Context(), u, "")
		req.Header.Set("Authorization", "Bearer "+access)
	case postBody:
		req = e2e.NewFormRequest(t.Context(), u, url.Values{"access_token": {access}}.Encode())
	}
	return e2e.WireDo(t, req)
}

// userinfo checks a successful UserInfo answer (§5.3.2): 200, JSON, never
// cached, and the sub of the ID token (which the relying party MUST
// compare).
func (p *provider) userinfo(t *testing.T, how userinfoWay, access, sub string) map[string]any {
	t.Helper()
	w := p.userinfoCall(t, how, access)
	e2e.CheckWire(t, "userinfo", w, false)
	if w.Status != http.StatusOK {
		t.Fatalf("userinfo: %d %s", w.Status, w.Body)
	}
	claims := w.JSON(t)
	if claims["sub"] != sub {
		t.Errorf("userinfo sub %v, want the ID token's %q (OpenID Connect Core 1.0 §5.3.2)", claims["sub"], sub)
	}
	for name, v := range claims {
		// §5.3.2: a claim without a value is left out, not sent empty.
		if s, isString := v.(string); v == nil || isString && s == "" {
			t.Errorf("userinfo claim %s is present without a value (%#v)", name, v)
		}
	}
	return claims
}

// userinfoRefused checks that an access token no longer works: 401 with
// a Bearer challenge naming invalid_token (RFC 6750 §3.1).
func (p *provider) userinfoRefused(t *testing.T, what, access string) {
	t.Helper()
	w := p.userinfoCall(t, getHeader, access)
	e2e.CheckWire(t, what, w, false)
	ch := w.Header.Get("WWW-Authenticate")
	if w.Status != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="invalid_token"`) {
		t.Errorf("%s: %d, WWW-Authenticate %q; want 401 with a Bearer invalid_token challenge", what, w.Status, ch)
	}
}
