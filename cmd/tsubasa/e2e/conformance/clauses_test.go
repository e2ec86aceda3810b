package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// clauses are MUSTs of the specifications that no certification module
// plays, each a subtest of TestOIDCC named by its clause.
var clauses = []struct {
	id   string
	play func(*testing.T, *provider)
}{
	{"rfc6749-3.1-repeated-parameters", repeatedParameters},
	{"rfc6749-4.1.2.1-request-errors", requestErrors},
	{"rfc6749-4.1.3-code-binding", codeBinding},
	{"rfc6749-5.2-token-errors", tokenErrors},
	{"rfc7009-revocation", revocation},
	{"rfc7662-introspection", introspection},
	{"rfc8628-device-authorization", deviceAuthorization}, // device_test.go
}

// repeatedParameters: request and response parameters MUST NOT appear
// more than once (RFC 6749 §3.1, §3.2), and a request that repeats one is
// invalid_request (§4.1.2.1, §5.2): the provider must not pick one of the
// values for the client. A repeated client_id or redirect_uri leaves no
// redirect URI to trust: the error page.
func repeatedParameters(t *testing.T, p *provider) {
	b := e2e.NewBrowser(t, p.s)
	for _, name := range []string{"state", "scope", "nonce", "code_challenge", "prompt"} {
		a := p.newAuthz(web, "openid").set("prompt", "login")
		pg := b.Get(t, p.authURL(t, a)+"&"+name+"="+url.QueryEscape(a.params.Get(name)+"x"))
		if name == "state" {
			// Which state would the error carry? Neither is the client's alone.
			q := p.redirected(t, pg)
			if q.Get("error") != "invalid_request" || q.Has("code") {
				t.Errorf("state twice: %v, want invalid_request", q)
			}
			continue
		}
		p.authError(t, a, pg, "invalid_request")
	}
	for _, name := range []string{"client_id", "redirect_uri"} {
		a := p.newAuthz(web, "openid")
		pg := b.Get(t, p.authURL(t, a)+"&"+name+"="+url.QueryEscape(a.params.Get(name)))
		if pg.Location != "" || pg.Status != http.StatusBadRequest {
			t.Errorf("%s twice: %d, Location %q; want the 400 error page", name, pg.Status, pg.Location)
		}
	}

	a := p.newAuthz(web, "openid")
	code := p.loginAs(t, b, a, memberNumber, memberPass)
	grant := p.codeGrant(a, code)
	grant.Add("code", code)
	tokenError(t, "code exchange with the code twice", p.tokenRequest(t, web, authBasic, grant), http.StatusBadRequest, "invalid_request")
}

// requestErrors: a request from a valid client to its registered
// redirect URI that is wrong otherwise is answered there (RFC 6749
// §4.1.2.1, OpenID Connect Core 1.0 §3.1.2.6); one whose client is
// missing or unknown is not, since no redirect URI can be trusted.
func requestErrors(t *testing.T, p *provider) {
	b := e2e.NewBrowser(t, p.s)
	for what, tt := range map[string]struct {
		a     *authz
		codes []string
	}{
		"no scope":               {p.newAuthz(web, "openid").without("scope"), []string{"invalid_request", "invalid_scope"}},
		"no openid scope":        {p.newAuthz(web, "profile"), []string{"invalid_scope", "invalid_request"}},
		"prompt=none with login": {p.newAuthz(web, "openid").set("prompt", "none login"), []string{"invalid_request"}},
		"bad max_age":            {p.newAuthz(web, "openid").set("max_age", "soon"), []string{"invalid_request"}},
		"unknown response_mode":  {p.newAuthz(web, "openid").set("response_mode", "web_message"), []string{"invalid_request"}},
		"implicit":               {p.newAuthz(web, "openid").set("response_type", "id_token token"), []string{"unsupported_response_type"}},
	} {
		pg := p.start(t, b, tt.a)
		if tt.a.params.Get("response_type") == "id_token token" {
			// The fragment is where a relying party asking for it looks.
			u, _ := url.Parse(pg.Location)
			if q, _ := url.ParseQuery(u.Fragment); q.Get("error") != "unsupported_response_type" || q.Get("state") != tt.a.state {
				t.Errorf("%s: %d to %q, want unsupported_response_type in the fragment", what, pg.Status, pg.Location)
			}
			continue
		}
		t.Run(strings.ReplaceAll(what, " ", "-"), func(t *testing.T) { p.authError(t, tt.a, pg, tt.codes...) })
	}
	for what, a := range map[string]*authz{
		"no client_id":   p.newAuthz(web, "openid").without("client_id"),
		"unknown client": p.newAuthz(client{id: "nobody"}, "openid"),
	} {
		if pg := p.start(t, b, a); pg.Location != "" || pg.Status != http.StatusBadRequest {
			t.Errorf("%s: %d, Location %q; want the 400 error page", what, pg.Status, pg.Location)
		} else {
			checkPage(t, "error page for "+what, pg)
		}
	}
}

// codeBinding: the token endpoint MUST ensure the code was issued to the
// authenticated client and that redirect_uri is the one of the
// authorization request (RFC 6749 §4.1.3).
func codeBinding(t *testing.T, p *provider) {
	for what, tamper := range map[string]func(url.Values) (client, url.Values){
		"another client":       func(f url.Values) (client, url.Values) { return webES256, f },
		"another redirect_uri": func(f url.Values) (client, url.Values) { f.Set("redirect_uri", p.redirect+"/x"); return web, f },
		"no redirect_uri":      func(f url.Values) (client, url.Values) { f.Del("redirect_uri"); return web, f },
		"no client secret":     func(f url.Values) (client, url.Values) { return client{id: "web"}, f },
	} {
		a := p.newAuthz(web, "openid")
		code := p.loginAs(t, e2e.NewBrowser(t, p.s), a, memberNumber, memberPass)
		c, f := tamper(p.codeGrant(a, code))
		how := authBasic
		if c.secret == "" {
			how = authNone
		}
		w := p.tokenRequest(t, c, how, f)
		e2e.CheckWire(t, "code exchange by "+what, w, false)
		if w.Status < 400 || w.JSON(t)["access_token"] != nil {
			t.Errorf("code exchange by %s: %d %s, want an error", what, w.Status, w.Body)
		}
	}
}

// tokenErrors: each failure at the token endpoint has its own code (RFC
// 6749 §5.2): a failed client authentication is 401 invalid_client with
// a challenge for the scheme used; a client that authenticated but may
// not use the grant is 400 unauthorized_client; an unknown grant type is
// unsupported_grant_type; a missing parameter invalid_request.
func tokenErrors(t *testing.T, p *provider) {
	wrong := client{id: web.id, secret: "wrong-secret", alg: web.alg}
	for _, tt := range []struct {
		what   string
		c      client
		how    clientAuth
		form   url.Values
		status int
		code   string
	}{
		{"a wrong secret by Basic", wrong, authBasic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, 401, "invalid_client"},
		{"a wrong secret in the body", wrong, authPost, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, 401, "invalid_client"},
		{"an unknown client", client{id: "nobody", secret: "x"}, authBasic, url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client"},
		{"a grant the client does not hold", web, authBasic, url.Values{"grant_type": {"client_credentials"}}, 400, "unauthorized_client"},
		{"an unknown grant type", web, authBasic, url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, 400, "unsupported_grant_type"},
		{"no grant type", web, authBasic, url.Values{"code": {"x"}}, 400, "invalid_request"},
		{"no code", web, authBasic, url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {p.redirect}}, 400, "invalid_request"},
		{"an unknown code", web, authBasic, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {p.redirect}}, 400, "invalid_grant"},
	} {
		w := p.tokenRequest(t, tt.c, tt.how, tt.form)
		tokenError(t, "token request with "+tt.what, w, tt.status, tt.code)
		if tt.how == authBasic && tt.status == http.StatusUnauthorized && !strings.HasPrefix(w.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("token request with %s: WWW-Authenticate %q, want the Basic scheme", tt.what, w.Header.Get("WWW-Authenticate"))
		}
	}
}

// revocation: RFC 7009. A revoked access token stops working at once; a
// revoked refresh token takes the access tokens of its grant along (§2.1:
// SHOULD); the answer is 200 with no body to speak of, also for a token
// the server does not know (§2.2).
func revocation(t *testing.T, p *provider) {
	revoke := func(what, token, hint string) {
		t.Helper()
		f := url.Values{"token": {token}}
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		req := e2e.NewFormRequest(t.Context(), p.endpoint(t, "revocation_endpoint"), f.Encode())
		req.SetBasicAuth(web.id, web.secret)
		w := e2e.WireDo(t, req)
		e2e.CheckWire(t, what, w, false)
		if w.Status != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", what, w.Status, w.Body)
		}
	}
	tk, id := p.flow(t, p.newAuthz(web, "openid"))
	revoke("revocation of an access token", tk.access, "access_token")
	p.userinfoRefused(t, "userinfo after revocation of the access token", tk.access)

	tk, id = p.flow(t, p.newAuthz(web, "openid"))
	p.userinfo(t, getHeader, tk.access, id.Subject)
	revoke("revocation of a refresh token, hinted as an access token", tk.refresh, "access_token")
	p.userinfoRefused(t, "userinfo after revocation of its refresh token", tk.access)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}}
	tokenError(t, "refresh with a revoked token", p.tokenRequest(t, web, authBasic, refresh), http.StatusBadRequest, "invalid_grant")

	revoke("revocation of an unknown token", "no-such-token", "")
	revoke("revocation with an unknown hint", "no-such-token", "saml_assertion")
}

// introspection: RFC 7662. An active token's answer says active with its
// scope, client, subject and times (§2.2); an inactive one says only
// active false; the answer goes to the token's own client only.
func introspection(t *testing.T, p *provider) {
	tk, id := p.flow(t, p.newAuthz(web, "openid profile"))
	ask := func(what string, c client, token string) map[string]any {
		t.Helper()
		req := e2e.NewFormRequest(t.Context(), p.endpoint(t, "introspection_endpoint"), url.Values{"token": {token}}.Encode())
		req.SetBasicAuth(c.id, c.secret)
		w := e2e.WireDo(t, req)
		e2e.CheckWire(t, what, w, false)
		if w.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", what, w.Status, w.Body)
		}
		return w.JSON(t)
	}
	got := ask("introspection of an active token", web, tk.access)
	if got["active"] != true || got["client_id"] != web.id || got["sub"] != id.Subject || got["iss"] != p.s.Issuer ||
		!sameScopes(got["scope"].(string), "openid profile offline_access") {
		t.Errorf("active token: %v", got)
	}
	for _, k := range []string{"exp", "iat"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("active token: %s = %v, want a number", k, got[k])
		}
	}
	for what, tt := range map[string]struct {
		c     client
		token string
	}{
		"another client's token": {webES256, tk.access},
		"an unknown token":       {web, "no-such-token"},
	} {
		if got := ask("introspection of "+what, tt.c, tt.token); len(got) != 1 || got["active"] != false {
			t.Errorf("%s: %v, want only active=false (§2.2)", what, got)
		}
	}
}
