package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// The Basic OP plan's happy flows: the code flow end to end, and the
// variations of the request a provider must accept.

// finish takes the provider's redirect to the relying party, exchanges
// the code and validates the tokens: the ID token (§3.1.3.7) and the
// scope granted (RFC 6749 §5.1).
func (p *provider) finish(t *testing.T, a *authz, pg e2e.Page, want idWant) (tokens, idToken) {
	t.Helper()
	code := p.code(t, a, pg)
	tk := p.exchange(t, a, code)
	want.nonce, want.accessToken, want.code = a.nonce, tk.access, code
	id := p.verifyIDToken(t, tk.idToken, a.c, want)
	p.checkGrantedScope(t, a, tk)
	return tk, id
}

// checkGrantedScope: RFC 6749 §5.1 lets the token response leave scope
// out only when it is the scope requested; otherwise the relying party
// must be told. The access token's scope, as introspection reports it,
// is the truth either answer is checked against.
func (p *provider) checkGrantedScope(t *testing.T, a *authz, tk tokens) {
	t.Helper()
	if a.c.secret == "" {
		return // introspection is for confidential clients
	}
	req := e2e.NewFormRequest(t.Context(), p.endpoint(t, "introspection_endpoint"), url.Values{"token": {tk.access}}.Encode())
	req.SetBasicAuth(a.c.id, a.c.secret)
	w := e2e.WireDo(t, req)
	e2e.CheckWire(t, "introspection", w, false)
	got := w.JSON(t)
	if got["active"] != true {
		t.Fatalf("introspection of a fresh access token: %s", w.Body)
	}
	granted, _ := got["scope"].(string)
	said := tk.scope
	if _, ok := tk.body["scope"]; !ok {
		said = a.params.Get("scope")
	}
	if !sameScopes(said, granted) {
		t.Errorf("token response scope %q (requested %q) but the access token holds %q (RFC 6749 §5.1: scope is REQUIRED when it differs from the request)",
			tk.scope, a.params.Get("scope"), granted)
	}
}

func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// flow logs the member in through a fresh browser for request a and
// returns the verified tokens.
func (p *provider) flow(t *testing.T, a *authz) (tokens, idToken) {
	t.Helper()
	b := e2e.NewBrowser(t, p.s)
	tk, id := p.finish(t, a, login(t, b, p.start(t, b, a), memberNumber, memberPass), idWant{})
	p.sameSub(t, a.c, id.Subject)
	return tk, id
}

// sameSub checks that client c sees the suite's member under the sub it
// saw first.
func (p *provider) sameSub(t *testing.T, c client, sub string) {
	t.Helper()
	if first, ok := p.subs[c.id]; !ok {
		p.subs[c.id] = sub
	} else if sub != first {
		t.Errorf("client %s sees the member as %s, first as %s", c.id, sub, first)
	}
}

// server: oidcc-server, the code flow with client_secret_basic, every
// answer on the wire checked, then userinfo for the ID token's sub.
func server(t *testing.T, p *provider) {
	tk, id := p.flow(t, p.newAuthz(web, "openid"))
	p.userinfo(t, getHeader, tk.access, id.Subject)
}

// clientSecretPost: oidcc-server-client-secret-post, the same with the
// secret in the token request's body.
func clientSecretPost(t *testing.T, p *provider) {
	b := e2e.NewBrowser(t, p.s)
	a := p.newAuthz(web, "openid")
	code := p.loginAs(t, b, a, memberNumber, memberPass)
	tk := p.exchangeAs(t, a, code, authPost)
	id := p.verifyIDToken(t, tk.idToken, web, idWant{nonce: a.nonce, accessToken: tk.access, code: code})
	p.userinfo(t, getHeader, tk.access, id.Subject)
	if !slices.Contains(p.list("token_endpoint_auth_methods_supported"), "client_secret_post") {
		t.Error("client_secret_post works but token_endpoint_auth_methods_supported does not say so")
	}
}

// alternateHappyFlow: oidcc-alternate-happy-flow, the email scope's flow
// with the scope's values reversed and the parameters in another order
// (RFC 6749 §3.3: their order does not matter).
func alternateHappyFlow(t *testing.T, p *provider) {
	a := p.newAuthz(web, "email openid")
	order := []string{"nonce", "code_challenge_method", "state", "redirect_uri", "scope", "code_challenge", "client_id", "response_type"}
	var q []string
	for _, k := range order {
		q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(a.params.Get(k)))
	}
	b := e2e.NewBrowser(t, p.s)
	pg := b.Get(t, p.endpoint(t, "authorization_endpoint")+"?"+strings.Join(q, "&"))
	tk, id := p.finish(t, a, login(t, b, pg, memberNumber, memberPass), idWant{})
	claims := p.userinfo(t, getHeader, tk.access, id.Subject)
	if claims["email"] != "hanako@example.com" {
		t.Errorf("userinfo for the email scope: %v", claims)
	}
}

// otherScopeOrder: oidcc-ensure-other-scope-order-succeeds.
func otherScopeOrder(t *testing.T, p *provider) {
	tk, id := p.flow(t, p.newAuthz(web, "email openid"))
	if claims := p.userinfo(t, postHeader, tk.access, id.Subject); claims["email"] == nil {
		t.Errorf("userinfo for scope 'email openid': %v", claims)
	}
}

// responseTypeMissing: oidcc-response-type-missing. A request without
// response_type from a valid client to its registered redirect URI is
// answered there with invalid_request and the state (RFC 6749 §4.1.2.1),
// without a login page first.
func responseTypeMissing(t *testing.T, p *provider) {
	a := p.newAuthz(web, "openid").without("response_type")
	p.authError(t, a, p.start(t, e2e.NewBrowser(t, p.s), a), "invalid_request", "unsupported_response_type")
}

func userinfoGet(t *testing.T, p *provider)        { userinfoModule(t, p, getHeader) }
func userinfoPostHeader(t *testing.T, p *provider) { userinfoModule(t, p, postHeader) }
func userinfoPostBody(t *testing.T, p *provider)   { userinfoModule(t, p, postBody) }

// userinfoModule: oidcc-userinfo-get, -post-header, -post-body. The
// answer is JSON with the ID token's sub (§5.3.2), never cached.
func userinfoModule(t *testing.T, p *provider, how userinfoWay) {
	tk, id := p.flow(t, p.newAuthz(web, "openid profile"))
	claims := p.userinfo(t, how, tk.access, id.Subject)
	if claims["name"] == nil {
		t.Errorf("userinfo for the profile scope lacks name: %v", claims)
	}
}

// withoutNonce: oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
// nonce is OPTIONAL in the code flow (§3.1.2.1); the ID token then has
// none.
func withoutNonce(t *testing.T, p *provider) {
	p.flow(t, p.newAuthz(web, "openid").without("nonce"))
}

// postRequest: oidcc-ensure-post-request-succeeds. The authorization
// endpoint MUST take POST (§3.1.2.1), here as a relying party's
// auto-submitted form does it: from another origin.
func postRequest(t *testing.T, p *provider) {
	a := p.newAuthz(web, "openid")
	b := e2e.NewBrowser(t, p.s)
	req := e2e.NewFormRequest(t.Context(), p.endpoint(t, "authorization_endpoint"), a.params.Encode())
	req.Header.Set("Origin", "https://rp.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pg := e2e.PageOf(resp)
	resp.Body.Close()
	p.finish(t, a, login(t, b, pg, memberNumber, memberPass), idWant{})
}

// validPKCE: oidcc-ensure-request-with-valid-pkce-succeeds (RFC 7636),
// by a public client, which must use it; and what RFC 7636 §4.4.1, §4.6
// and RFC 9700 §2.1.1 require around it: the code needs its verifier,
// plain is refused, a public client without PKCE is refused.
func validPKCE(t *testing.T, p *provider) {
	p.flow(t, p.newAuthz(spa, "openid"))
	if !slices.Equal(p.list("code_challenge_methods_supported"), []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported %v, want [S256]", p.list("code_challenge_methods_supported"))
	}

	// A wrong verifier is invalid_grant (RFC 7636 §4.6); a missing one
	// is a missing parameter (RFC 6749 §5.2: invalid_request) or the
	// same mismatch. Either way the code is used up: the right verifier
	// after the wrong one gets nothing.
	for what, tt := range map[string]struct {
		verifier string
		codes    []string
	}{
		"a wrong code_verifier": {random() + random(), []string{"invalid_grant"}},
		"no code_verifier":      {"", []string{"invalid_request", "invalid_grant"}},
	} {
		b := e2e.NewBrowser(t, p.s)
		a := p.newAuthz(web, "openid")
		code := p.loginAs(t, b, a, memberNumber, memberPass)
		right := a.verifier
		a.verifier = tt.verifier
		w := p.tokenRequest(t, web, authBasic, p.codeGrant(a, code))
		got, _ := w.JSON(t)["error"].(string)
		if !slices.Contains(tt.codes, got) {
			t.Errorf("code exchange with %s: error %q, want one of %v", what, got, tt.codes)
		}
		tokenError(t, "code exchange with "+what, w, http.StatusBadRequest, got)
		a.verifier = right
		tokenError(t, "code exchange after one with "+what, p.tokenRequest(t, web, authBasic, p.codeGrant(a, code)), http.StatusBadRequest, "invalid_grant")
	}

	b := e2e.NewBrowser(t, p.s)
	plain := p.newAuthz(web, "openid").set("code_challenge_method", "plain")
	plain.params.Set("code_challenge", plain.verifier)
	p.authError(t, plain, p.start(t, b, plain), "invalid_request")
	bare := p.newAuthz(spa, "openid").without("code_challenge")
	p.authError(t, bare, p.start(t, b, bare), "invalid_request")
}

// unknownParameter: oidcc-ensure-request-with-unknown-parameter-succeeds.
// Unknown parameters are ignored (RFC 6749 §3.1).
func unknownParameter(t *testing.T, p *provider) {
	p.flow(t, p.newAuthz(web, "openid").set("extra", "foobar", "x-tsubasa-unknown", "1"))
}

func displayPage(t *testing.T, p *provider)  { display(t, p, "page") }
func displayPopup(t *testing.T, p *provider) { display(t, p, "popup") }

// display: oidcc-display-page and oidcc-display-popup. display is
// OPTIONAL to honour (§3.1.2.1); the request succeeds with the one login
// page Tsubasa has, which fits a popup's width too.
func display(t *testing.T, p *provider, value string) {
	p.flow(t, p.newAuthz(web, "openid").set("display", value))
}
