package provider

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// TestDiscoveryAdvertisesWhatWorks: the document lists exactly what the
// tables hold, every boolean explicitly, no endpoint of a grant not
// offered, and the acr and ui_locales values of the packages that decide.
func TestDiscoveryAdvertisesWhatWorks(t *testing.T) {
	e := newWireEnv(t)
	rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+discoveryPath, nil))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	list := func(key string) []string {
		var l []string
		if err := json.Unmarshal(raw[key], &l); err != nil {
			t.Errorf("%s: %v (%s)", key, err, raw[key])
		}
		return l
	}
	for key, want := range map[string][]string{
		"response_types_supported":                                 {"code"},
		"response_modes_supported":                                 {"query", "fragment"},
		"grant_types_supported":                                    {"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"},
		"subject_types_supported":                                  {"public", "pairwise"},
		"acr_values_supported":                                     acr.Levels(),
		"ui_locales_supported":                                     {"ja", "en"},
		"code_challenge_methods_supported":                         {"S256"},
		"id_token_signing_alg_values_supported":                    {"RS256", "ES256", "PS256"},
		"token_endpoint_auth_methods_supported":                    {"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_methods_supported":               {"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		"introspection_endpoint_auth_methods_supported":            {"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported":         {"ES256", "PS256", "RS256", "EdDSA"},
		"revocation_endpoint_auth_signing_alg_values_supported":    {"ES256", "PS256", "RS256", "EdDSA"},
		"introspection_endpoint_auth_signing_alg_values_supported": {"ES256", "PS256", "RS256", "EdDSA"},
		"request_object_signing_alg_values_supported":              {"ES256", "PS256", "RS256", "EdDSA"},
		"dpop_signing_alg_values_supported":                        {"ES256", "PS256", "RS256", "EdDSA"},
		"scopes_supported":                                         supportedScopes,
		"claims_supported":                                         supportedClaims,
	} {
		if got := list(key); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	for _, key := range []string{"request_uri_parameter_supported",
		"frontchannel_logout_supported", "require_pushed_authorization_requests"} {
		if string(raw[key]) != "false" {
			t.Errorf("%s = %s, want an explicit false", key, raw[key])
		}
	}
	for _, key := range []string{"request_parameter_supported", "authorization_response_iss_parameter_supported",
		"claims_parameter_supported", "backchannel_logout_supported", "backchannel_logout_session_supported"} {
		if string(raw[key]) != "true" {
			t.Errorf("%s = %s, want true", key, raw[key])
		}
	}
	for key, path := range map[string]string{
		"authorization_endpoint": "/authorize", "token_endpoint": "/oauth/token", "userinfo_endpoint": "/userinfo",
		"jwks_uri": "/keys", "revocation_endpoint": "/revoke", "introspection_endpoint": "/oauth/introspect",
		"end_session_endpoint": "/end_session", "pushed_authorization_request_endpoint": "/oauth/par",
		"device_authorization_endpoint": "/device_authorization",
	} {
		if got := string(raw[key]); got != `"`+wireIssuer+path+`"` {
			t.Errorf("%s = %s, want %s%s", key, got, wireIssuer, path)
		}
	}
	for _, key := range []string{"check_session_iframe", "registration_endpoint"} {
		if v, ok := raw[key]; ok {
			t.Errorf("%s = %s advertised", key, v)
		}
	}
}

// TestGrantTablesDecideTheTokenEndpoint: every grant type op knows is
// dispatched exactly when the table (and so discovery) has it; the others
// are refused with unsupported_grant_type before op tries them. A grant a
// client does not hold is unauthorized_client.
func TestGrantTablesDecideTheTokenEndpoint(t *testing.T) {
	e := newWireEnv(t)
	for _, g := range []oidc.GrantType{
		oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials, oidc.GrantTypeBearer,
		oidc.GrantTypeTokenExchange, oidc.GrantTypeDeviceCode, oidc.GrantTypeImplicit, "password", "x",
	} {
		form := url.Values{"grant_type": {string(g)}, "code": {"x"}, "refresh_token": {"x"}, "assertion": {"x.y.z"},
			"subject_token": {"x"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}, "device_code": {"x"}}
		rec := e.post("/oauth/token", form, "web", wireSecret)
		got := decode(t, rec)["error"]
		if offered := slices.Contains(grantTypes, string(g)); offered == (got == "unsupported_grant_type") {
			t.Errorf("grant_type %s (offered: %v): %d %s", g, offered, rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 {
			t.Errorf("grant_type %s: %d %s", g, rec.Code, rec.Body.String())
		}
	}
	rec := e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "other", "wrong")
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("client credentials with a wrong secret: %d %s", rec.Code, rec.Body.String())
	}
	// The right secret, a grant the client does not hold: not a failed
	// authentication (RFC 6749 §5.2).
	rec = e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "loopback", wireSecret)
	if got := decode(t, rec); rec.Code != http.StatusBadRequest || got["error"] != "unauthorized_client" || got["access_token"] != nil {
		t.Errorf("client credentials by a client without the grant: %d %v, want 400 unauthorized_client", rec.Code, got)
	}
	spa := &client{c: mustClient(t, e, "spa")}
	if slices.Contains(spa.GrantTypes(), oidc.GrantTypeClientCredentials) || !slices.Equal(spa.ResponseTypes(), []oidc.ResponseType{oidc.ResponseTypeCode}) {
		t.Errorf("spa: grant types %v, response types %v", spa.GrantTypes(), spa.ResponseTypes())
	}
	backend := &client{c: mustClient(t, e, "backend")}
	if len(backend.ResponseTypes()) != 0 {
		t.Errorf("a client without the code grant may ask for %v", backend.ResponseTypes())
	}
	// The device authorization endpoint is served (the grant is in the
	// table), and a client without the grant is unauthorized_client.
	rec = e.post("/device_authorization", url.Values{"client_id": {"spa"}, "scope": {"openid"}}, "", "")
	if got := decode(t, rec); rec.Code != http.StatusBadRequest || got["error"] != "unauthorized_client" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("/device_authorization by a client without the device grant: %d %v", rec.Code, got)
	}
}

func mustClient(t *testing.T, e *wireEnv, id string) storage.Client {
	t.Helper()
	c, err := e.p.clients.get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authorizeAnswer is where /authorize sends the browser, with the answer's
// parameters (query or fragment).
func authorizeAnswer(t *testing.T, e *wireEnv, q url.Values) (status int, target string, params url.Values) {
	t.Helper()
	rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/authorize?"+q.Encode(), nil))
	loc := rec.Header().Get("Location")
	target, rest, _ := strings.Cut(loc, "#")
	if rest == "" {
		target, rest, _ = strings.Cut(loc, "?")
		target += "?"
	} else {
		target += "#"
	}
	params, err := url.ParseQuery(rest)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, target, params
}

// TestResponseTablesDecideTheAuthorizationEndpoint: a response type in the
// table goes to the login page; any other, from a client with a valid,
// exactly registered redirect URI, comes back to it at once with
// unsupported_response_type and the state, in the fragment for the types
// that return tokens; an unsupported response mode, or none at all, is
// invalid_request; a request object is request_not_supported or
// request_uri_not_supported. A redirect URI that is not exactly
// registered is never redirected to.
func TestResponseTablesDecideTheAuthorizationEndpoint(t *testing.T) {
	e := newWireEnv(t)
	base := url.Values{"client_id": {"web"}, "redirect_uri": {wireRedirect}, "scope": {"openid"}, "state": {"st"},
		"nonce": {"n"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	for _, tt := range []struct {
		q            url.Values
		target, code string
	}{
		{with("response_type", "code"), "/login?", ""},
		{with("response_type", "code", "response_mode", "fragment"), "/login?", ""},
		{with("response_type", "id_token token"), wireRedirect + "#", "unsupported_response_type"},
		{with("response_type", "id_token"), wireRedirect + "#", "unsupported_response_type"},
		{with("response_type", "token"), wireRedirect + "#", "unsupported_response_type"},
		{with("response_type", "code id_token"), wireRedirect + "#", "unsupported_response_type"},
		{with("response_type", "token", "response_mode", "query"), wireRedirect + "?", "unsupported_response_type"},
		{with("response_type", "token", "response_mode", "form_post"), wireRedirect + "#", "unsupported_response_type"},
		{with("response_type", "none"), wireRedirect + "?", "unsupported_response_type"},
		{with("response_type", "code", "response_mode", "form_post"), wireRedirect + "?", "invalid_request"},
		{with("response_type", ""), wireRedirect + "?", "invalid_request"},
		{with("client_id", "loopback", "redirect_uri", wireLoopback), wireLoopback + "?", "invalid_request"},
		{with("client_id", "loopback", "redirect_uri", wireLoopback, "response_type", "code"), "/login?", ""},
		// Request objects (OpenID Connect Core 1.0 §6.1, §6.2) of a client
		// without keys, and a request_uri by reference: refused, not
		// answered as if they were not there.
		{with("response_type", "code", "request", "eyJhbGciOiJub25lIn0.eyJub25jZSI6Im4yIn0."), wireRedirect + "?", "request_not_supported"},
		{with("response_type", "code", "request_uri", "https://rp.example/request.jwt"), wireRedirect + "?", "request_uri_not_supported"},
		{with("response_type", "code", "client_id", "backend", "redirect_uri", "https://backend.example/cb"),
			"https://backend.example/cb?", "unauthorized_client"},
	} {
		what := tt.q.Get("client_id") + " " + tt.q.Get("response_type") + " " + tt.q.Get("response_mode")
		status, target, params := authorizeAnswer(t, e, tt.q)
		if status != http.StatusFound || !strings.HasPrefix(target, tt.target) {
			t.Errorf("%s: %d to %q, want a redirect to %s", what, status, target, tt.target)
			continue
		}
		if tt.code == "" {
			continue
		}
		if params.Get("error") != tt.code || params.Get("state") != "st" || params.Get("error_description") == "" {
			t.Errorf("%s: %v, want error %s with a description and the state", what, params, tt.code)
		}
		if params.Has("code") || params.Has("access_token") || params.Has("id_token") {
			t.Errorf("%s: a credential in the error redirect: %v", what, params)
		}
	}
	// op matches the redirect URI after un-escaping it; an error must not
	// go to a spelling that only matches that way.
	for _, uri := range []string{url.QueryEscape(wireRedirect), "https://rp.example/c%62"} {
		rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/authorize?"+with("response_type", "token", "redirect_uri", uri).Encode(), nil))
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
			t.Errorf("redirect_uri %q: %d, Location %q; want 400 and no redirect", uri, rec.Code, rec.Header().Get("Location"))
		}
	}
}

// TestClientAuthMethodsMatchTables: at each endpoint, a client
// authenticates by every method its list advertises, and by no other.
func TestClientAuthMethodsMatchTables(t *testing.T) {
	e := newWireEnv(t)
	assertion := url.Values{"client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion}}
	for _, ep := range []struct {
		path    string
		methods []oidc.AuthMethod
		form    url.Values
	}{
		// The refresh grant: op checks a code before the client, a refresh
		// token after it.
		{"/oauth/token", tokenAuthMethods, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}},
		{"/revoke", revocationAuthMethods, url.Values{"token": {"unknown"}}},
		{"/oauth/introspect", introspectionAuthMethods, url.Values{"token": {"unknown"}}},
	} {
		for _, m := range []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT} {
			form := url.Values{}
			for k, v := range ep.form {
				form[k] = v
			}
			var id, secret string
			switch m {
			case oidc.AuthMethodNone:
				form.Set("client_id", "spa")
			case oidc.AuthMethodBasic:
				id, secret = "web", wireSecret
			case oidc.AuthMethodPost:
				form.Set("client_id", "web")
				form.Set("client_secret", wireSecret)
			case oidc.AuthMethodPrivateKeyJWT:
				form.Set("client_id", "partner")
				for k, v := range assertion {
					form[k] = v
				}
				form.Set("client_assertion", e.partner.assertion(t, "partner", wireIssuer, e.clock.Now(), time.Minute))
			}
			rec := e.post(ep.path, form, id, secret)
			if rec.Code >= 500 {
				t.Errorf("%s by %s: %d %s", ep.path, m, rec.Code, rec.Body.String())
			}
			authenticated := rec.Code != http.StatusUnauthorized
			if advertised := slices.Contains(ep.methods, m); authenticated != advertised {
				t.Errorf("%s by %s (advertised: %v): %d %s", ep.path, m, advertised, rec.Code, rec.Body.String())
			}
		}
	}
}
