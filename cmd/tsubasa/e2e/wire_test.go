package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// The OAuth/OIDC endpoints on the wire: status, headers and body fields of
// the raw exchanges, success and error, every answer through CheckWire.

const (
	webID, webSecret         = "web", "web-secret-0123456789"
	backendID, backendSecret = "backend", "backend-secret-0123456789"
)

// form posts a form to the server, with Basic authentication when secret
// is set.
func form(t *testing.T, s *Server, path string, f url.Values, id, secret string) Wire {
	t.Helper()
	req := NewFormRequest(t.Context(), s.Issuer+path, f.Encode())
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return WireDo(t, req)
}

// get fetches path with an optional Authorization header.
func get(t *testing.T, s *Server, path, authorization string) Wire {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return WireDo(t, req)
}

// wantError checks an error answer: status, error code, a description.
func wantError(t *testing.T, what string, w Wire, status int, code string) {
	t.Helper()
	CheckWire(t, what, w, false)
	body := w.JSON(t)
	if w.Status != status || body["error"] != code || body["error_description"] == "" {
		t.Errorf("%s: %d %s, want %d with error %s and a description", what, w.Status, w.Body, status, code)
	}
	if _, ok := body["access_token"]; ok {
		t.Errorf("%s: an error answer carries a token", what)
	}
}

// codeFor logs the member in at the web client and returns the code and
// the flow it belongs to.
func codeFor(t *testing.T, s *Server) (string, Flow) {
	t.Helper()
	rp := NewRP(t, s, webID, webSecret)
	f := NewFlow()
	cb := Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass)
	return cb.Query().Get("code"), f
}

func TestWireDiscoveryAndKeys(t *testing.T) {
	s := Start(t, Options{})
	d := get(t, s, "/.well-known/openid-configuration", "")
	CheckWire(t, "discovery", d, true)
	meta := d.JSON(t)
	list := func(key string) []string {
		var out []string
		for _, v := range meta[key].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	for key, want := range map[string][]string{
		"response_types_supported":                      {"code"},
		"grant_types_supported":                         {"authorization_code", "refresh_token", "client_credentials", DeviceGrantType},
		"subject_types_supported":                       {"public", "pairwise"},
		"acr_values_supported":                          {"urn:tsubasa:acr:pwd", "urn:tsubasa:acr:otp", "phr"},
		"ui_locales_supported":                          {"ja", "en", "zh-Hans", "zh-Hant", "ko"},
		"token_endpoint_auth_methods_supported":         {"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_methods_supported":    {"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
	} {
		if _, ok := meta[key]; !ok {
			t.Errorf("discovery lacks %s", key)
			continue
		}
		if got := list(key); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	for _, claim := range []string{"acr", "amr", "sid", "member_number", "email"} {
		if !slices.Contains(list("claims_supported"), claim) {
			t.Errorf("claims_supported lacks %s", claim)
		}
	}
	for _, key := range []string{"frontchannel_logout_supported", "request_uri_parameter_supported"} {
		if v, ok := meta[key]; !ok || v != false {
			t.Errorf("%s = %v (present: %v), want an explicit false", key, v, ok)
		}
	}
	// Signed request objects from clients with keys; iss in every
	// authorization response (RFC 9207).
	for _, key := range []string{"request_parameter_supported", "authorization_response_iss_parameter_supported"} {
		if v, ok := meta[key]; !ok || v != true {
			t.Errorf("%s = %v (present: %v), want true", key, v, ok)
		}
	}
	if meta["pushed_authorization_request_endpoint"] != s.Issuer+"/oauth/par" {
		t.Errorf("pushed_authorization_request_endpoint = %v", meta["pushed_authorization_request_endpoint"])
	}
	if meta["end_session_endpoint"] != s.Issuer+"/end_session" {
		t.Errorf("end_session_endpoint = %v", meta["end_session_endpoint"])
	}
	if meta["device_authorization_endpoint"] != s.Issuer+"/device_authorization" {
		t.Errorf("device_authorization_endpoint = %v", meta["device_authorization_endpoint"])
	}
	CheckWire(t, "keys", get(t, s, "/keys", ""), true)
	wantError(t, "discovery by POST", form(t, s, "/.well-known/openid-configuration", nil, "", ""), http.StatusMethodNotAllowed, "invalid_request")
}

func TestWireTokenEndpoint(t *testing.T) {
	s := StartWithMember(t, Options{})
	code, f := codeFor(t, s)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {s.Issuer + "/rp/callback"}, "code_verifier": {f.Verifier}}
	ok := form(t, s, "/oauth/token", exchange, webID, webSecret)
	CheckWire(t, "code grant", ok, false)
	tok := ok.JSON(t)
	if ok.Status != http.StatusOK || tok["access_token"] == nil || tok["id_token"] == nil || tok["refresh_token"] == nil ||
		!strings.EqualFold(tok["token_type"].(string), "Bearer") || tok["expires_in"] == nil {
		t.Fatalf("code grant: %d %s", ok.Status, ok.Body)
	}

	// The refresh grant with client_secret_post.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
		"client_id": {webID}, "client_secret": {webSecret}}
	rotated := form(t, s, "/oauth/token", refresh, "", "")
	CheckWire(t, "refresh grant", rotated, false)
	if rotated.Status != http.StatusOK || rotated.JSON(t)["refresh_token"] == nil {
		t.Errorf("refresh grant: %d %s", rotated.Status, rotated.Body)
	}
	wantError(t, "refresh grant, used token", form(t, s, "/oauth/token", refresh, "", ""), http.StatusBadRequest, "invalid_grant")
	wantError(t, "code grant, replayed code", form(t, s, "/oauth/token", exchange, webID, webSecret), http.StatusBadRequest, "invalid_grant")

	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"telephone"}}
	got := form(t, s, "/oauth/token", cc, backendID, backendSecret)
	CheckWire(t, "client credentials", got, false)
	if got.Status != http.StatusOK || got.JSON(t)["access_token"] == nil {
		t.Errorf("client credentials: %d %s", got.Status, got.Body)
	}
	basic := form(t, s, "/oauth/token", cc, backendID, "wrong")
	wantError(t, "client credentials, wrong secret by Basic", basic, http.StatusUnauthorized, "invalid_client")
	if ch := basic.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Basic realm="`) {
		t.Errorf("invalid_client after Basic: WWW-Authenticate %q, want the Basic scheme (RFC 6749 §5.2)", ch)
	}
	post := url.Values{"grant_type": {"client_credentials"}, "client_id": {backendID}, "client_secret": {"wrong"}}
	wantError(t, "client credentials, wrong secret by post", form(t, s, "/oauth/token", post, "", ""), http.StatusUnauthorized, "invalid_client")
	wantError(t, "unsupported grant", form(t, s, "/oauth/token", url.Values{"grant_type": {"password"}}, webID, webSecret),
		http.StatusBadRequest, "unsupported_grant_type")
	wantError(t, "no grant", form(t, s, "/oauth/token", url.Values{}, webID, webSecret), http.StatusBadRequest, "invalid_request")
	// Credentials travel in the body only (RFC 6749 §2.3.1, §3.2).
	inURL := "/oauth/token?" + url.Values{"grant_type": {"client_credentials"}, "client_id": {backendID}, "client_secret": {backendSecret}}.Encode()
	wantError(t, "token by GET", get(t, s, inURL, ""), http.StatusMethodNotAllowed, "invalid_request")
	wantError(t, "token, secret in the URL", form(t, s, inURL, nil, "", ""), http.StatusBadRequest, "invalid_request")
}

func TestWireIntrospectionAndRevocation(t *testing.T) {
	s := StartWithMember(t, Options{})
	tok := LoginRP(t, NewRP(t, s, webID, webSecret), NewBrowser(t, s))
	introspect := func(what string, f url.Values, id, secret string) map[string]any {
		t.Helper()
		w := form(t, s, "/oauth/introspect", f, id, secret)
		CheckWire(t, what, w, false)
		if w.Status != http.StatusOK {
			t.Errorf("%s: %d %s", what, w.Status, w.Body)
		}
		return w.JSON(t)
	}
	if got := introspect("introspection by Basic", url.Values{"token": {tok.AccessToken}}, webID, webSecret); got["active"] != true || got["client_id"] != webID {
		t.Errorf("own token by Basic: %v", got)
	}
	post := url.Values{"token": {tok.RefreshToken}, "client_id": {webID}, "client_secret": {webSecret}}
	if got := introspect("introspection by post", post, "", ""); got["active"] != true || got["token_type"] != "refresh_token" {
		t.Errorf("own refresh token by post: %v", got)
	}
	if got := introspect("introspection by another client", url.Values{"token": {tok.AccessToken}}, backendID, backendSecret); len(got) != 1 || got["active"] != false {
		t.Errorf("another client's token: %v, want only active=false", got)
	}
	bad := form(t, s, "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, webID, "wrong")
	wantError(t, "introspection, wrong secret", bad, http.StatusUnauthorized, "invalid_client")
	wantError(t, "introspection without a token", form(t, s, "/oauth/introspect", nil, webID, webSecret), http.StatusBadRequest, "invalid_request")

	badRevoke := form(t, s, "/revoke", url.Values{"token": {tok.AccessToken}}, webID, "wrong")
	wantError(t, "revocation, wrong secret", badRevoke, http.StatusUnauthorized, "invalid_client")
	if !strings.HasPrefix(badRevoke.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("revocation, wrong secret: WWW-Authenticate %q", badRevoke.Header.Get("WWW-Authenticate"))
	}
	for what, token := range map[string]string{"unknown token": "no-such-token", "access token": tok.AccessToken, "refresh token": tok.RefreshToken} {
		w := form(t, s, "/revoke", url.Values{"token": {token}}, webID, webSecret)
		CheckWire(t, "revocation of "+what, w, false)
		if w.Status != http.StatusOK {
			t.Errorf("revocation of %s: %d %s", what, w.Status, w.Body)
		}
	}
	if got := introspect("introspection after revocation", url.Values{"token": {tok.AccessToken}}, webID, webSecret); got["active"] != false {
		t.Errorf("revoked token: %v", got)
	}
}

func TestWireUserinfo(t *testing.T) {
	s := StartWithMember(t, Options{})
	tok := LoginRP(t, NewRP(t, s, webID, webSecret), NewBrowser(t, s))
	bearer := "Bearer " + tok.AccessToken
	postUserinfo := func(authorization string, body url.Values) Wire {
		req := NewFormRequest(t.Context(), s.Issuer+"/userinfo", body.Encode())
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		return WireDo(t, req)
	}
	for what, w := range map[string]Wire{
		"GET, header":  get(t, s, "/userinfo", bearer),
		"POST, header": postUserinfo(bearer, nil),
		"POST, body":   postUserinfo("", url.Values{"access_token": {tok.AccessToken}}),
	} {
		CheckWire(t, "userinfo "+what, w, false)
		if w.Status != http.StatusOK || w.JSON(t)["member_number"] != MemberNumber {
			t.Errorf("userinfo %s: %d %s", what, w.Status, w.Body)
		}
	}
	challenge := func(what string, w Wire, status int, want string) {
		t.Helper()
		CheckWire(t, what, w, false)
		if w.Status != status || w.Header.Get("WWW-Authenticate") != want && !strings.HasPrefix(w.Header.Get("WWW-Authenticate"), want+",") {
			t.Errorf("%s: %d, WWW-Authenticate %q; want %d with %s", what, w.Status, w.Header.Get("WWW-Authenticate"), status, want)
		}
	}
	none := get(t, s, "/userinfo", "")
	challenge("userinfo without a token", none, http.StatusUnauthorized, `Bearer realm="tsubasa"`)
	if ch := none.Header.Get("WWW-Authenticate"); strings.Contains(ch, "error=") {
		t.Errorf("userinfo without a token: WWW-Authenticate %q names an error (RFC 6750 §3.1: it should not)", ch)
	}
	challenge("userinfo, garbage token", get(t, s, "/userinfo", "Bearer garbage"), http.StatusUnauthorized,
		`Bearer realm="tsubasa", error="invalid_token"`)
	challenge("userinfo, token in the URL", get(t, s, "/userinfo?access_token="+url.QueryEscape(tok.AccessToken), ""),
		http.StatusBadRequest, `Bearer realm="tsubasa", error="invalid_request"`)
	cc := form(t, s, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"telephone"}}, backendID, backendSecret)
	challenge("userinfo, client token", get(t, s, "/userinfo", "Bearer "+cc.JSON(t)["access_token"].(string)), http.StatusForbidden,
		`Bearer realm="tsubasa", error="insufficient_scope"`)

	form(t, s, "/revoke", url.Values{"token": {tok.AccessToken}}, webID, webSecret)
	challenge("userinfo, revoked token", get(t, s, "/userinfo", bearer), http.StatusUnauthorized,
		`Bearer realm="tsubasa", error="invalid_token"`)
}

// TestWireEndSessionError: end_session is a browser endpoint, so its
// refusal is a page in the member's language (RP-Initiated Logout §4: the
// OP must not redirect to an unverified URI), not JSON; it is still never
// stored and never framed.
func TestWireEndSessionError(t *testing.T) {
	s := Start(t, Options{})
	w := get(t, s, "/end_session?id_token_hint=not.a.jwt", "")
	h := w.Header
	if w.Status != http.StatusBadRequest || h.Get("Location") != "" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(w.Body), "id_token_hint") {
		t.Errorf("end_session with a bad hint: %d, Location %q, Content-Type %q:\n%s", w.Status, h.Get("Location"), h.Get("Content-Type"), w.Body)
	}
	if !strings.Contains(h.Get("Cache-Control"), "no-store") || h.Get("Pragma") != "no-cache" ||
		!strings.EqualFold(h.Get("X-Frame-Options"), "DENY") || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("end_session with a bad hint: Cache-Control %q, Pragma %q, X-Frame-Options %q, CSP %q",
			h.Get("Cache-Control"), h.Get("Pragma"), h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
	}
}

// TestWireTelephoneAPI: the telephone API answers as a bearer resource:
// no token 401 with a bare challenge, a dead token 401 invalid_token, a
// member's token 401 invalid_token (no scope would make it acceptable: the
// API takes only a client's own client_credentials token); never cached.
func TestWireTelephoneAPI(t *testing.T) {
	s := StartWithMember(t, Options{})
	member := LoginRP(t, NewRP(t, s, webID, webSecret), NewBrowser(t, s))
	call := func(authorization string) Wire {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/api/telephone/verify",
			bytes.NewBufferString(`{"member_number":"`+MemberNumber+`","pin":"123456"}`))
		req.Header.Set("Content-Type", "application/json")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		return WireDo(t, req)
	}
	for _, tt := range []struct {
		what, authorization string
		status              int
		challenge           string
	}{
		{"no token", "", http.StatusUnauthorized, `Bearer realm="tsubasa"`},
		{"garbage token", "Bearer garbage", http.StatusUnauthorized, `Bearer realm="tsubasa", error="invalid_token"`},
		{"member token", "Bearer " + member.AccessToken, http.StatusUnauthorized, `Bearer realm="tsubasa", error="invalid_token"`},
	} {
		w := call(tt.authorization)
		CheckWire(t, "telephone API, "+tt.what, w, false)
		if ch := w.Header.Get("WWW-Authenticate"); w.Status != tt.status || !strings.HasPrefix(ch, tt.challenge) {
			t.Errorf("telephone API, %s: %d, WWW-Authenticate %q; want %d with %s…", tt.what, w.Status, ch, tt.status, tt.challenge)
		}
	}
}
