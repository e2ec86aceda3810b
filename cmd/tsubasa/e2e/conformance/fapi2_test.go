package conformance

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// fapi2Modules are the modules of the OpenID Foundation's FAPI 2.0
// Security Profile Final plan (fapi2-security-profile-final-test-plan)
// that apply to Tsubasa's configuration of it: private_key_jwt, DPoP,
// unsigned pushed requests, plain responses, OpenID Connect. Not played:
// the mTLS variants, grant management, the ecosystem profiles (Brazil,
// Australia, KSA, UAE), and the expired request_uri and expired code
// modules, which wait for 60 s or more (the lifetimes are checked by
// unit tests of the provider and the single use here).
var fapi2Modules = []struct {
	id   string
	play func(*testing.T, *fapiProvider)
}{
	{"discovery-end-point-verification", fapiDiscovery},
	{"happy-flow", fapiHappyFlow},
	{"ensure-authorization-request-without-state-success", func(t *testing.T, p *fapiProvider) {
		p.happy(t, p.c1, p.authzFor(p.c1, "openid").without("state"))
	}},
	{"ensure-authorization-request-without-nonce-success", func(t *testing.T, p *fapiProvider) {
		p.happy(t, p.c1, p.authzFor(p.c1, "openid").without("nonce"))
	}},
	{"ensure-authorization-request-with-long-state", func(t *testing.T, p *fapiProvider) {
		a := p.authzFor(p.c1, "openid")
		a.state = strings.Repeat("s", 384)
		p.happy(t, p.c1, a.set("state", a.state))
	}},
	{"ensure-other-scope-order-succeeds", func(t *testing.T, p *fapiProvider) {
		p.happy(t, p.c1, p.authzFor(p.c1, "profile openid"))
	}},
	{"test-claims-parameter-identity-claims", fapiClaimsParameter},
	{"access-token-type-header-case-sensitivity", fapiSchemeCase},
	{"check-dpop-proof-nbf-exp", fapiProofNbfExp},
	{"ensure-dpopproof-with-iat-10seconds-before-succeeds", func(t *testing.T, p *fapiProvider) { fapiProofIat(t, p, -10*time.Second) }},
	{"ensure-dpopproof-with-iat-10seconds-after-succeeds", func(t *testing.T, p *fapiProvider) { fapiProofIat(t, p, 10*time.Second) }},
	{"ensure-mismatched-dpop-jkt-fails", fapiMismatchedJKTAtPAR},
	{"ensure-token-endpoint-fails-with-mismatched-dpop-proof-jkt", fapiMismatchedProofKey},
	{"ensure-token-endpoint-fails-with-mismatched-dpop-jkt", fapiMismatchedDPoPJKT},
	{"ensure-dpopproof-at-par-endpoint-binding-success", func(t *testing.T, p *fapiProvider) {
		p.happy(t, p.c1, p.authzFor(p.c1, "openid")) // pushedLogin binds by a proof at /oauth/par
	}},
	{"ensure-dpop-auth-code-binding-success", fapiDPoPJKTBinding},
	{"ensure-registered-redirect-uri", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "an unregistered redirect_uri", p.c1, p.authzFor(p.c1, "openid").set("redirect_uri", p.redirect+"/x"), "invalid_request")
	}},
	{"ensure-unsigned-authorization-request-without-using-par-fails", fapiNotPushed},
	{"ensure-redirect-uri-in-authorization-request", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "a push without redirect_uri", p.c1, p.authzFor(p.c1, "openid").without("redirect_uri"), "invalid_request")
	}},
	{"ensure-response-type-code-idtoken-fails", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "response_type code id_token", p.c1, p.authzFor(p.c1, "openid").set("response_type", "code id_token"), "unsupported_response_type")
	}},
	{"ensure-response-type-token-fails", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "response_type token", p.c1, p.authzFor(p.c1, "openid").set("response_type", "token"), "unsupported_response_type")
	}},
	{"ensure-client-id-in-token-endpoint", fapiCodeOfAnotherClient},
	{"ensure-holder-of-key-required", fapiHolderOfKey},
	{"ensure-authorization-code-is-bound-to-client", fapiCodeOfAnotherClient},
	{"attempt-reuse-authorization-code-after-one-second", fapiCodeReuse},
	{"ensure-client-assertion-in-token-endpoint", fapiNoAssertion},
	{"ensure-client-assertion-with-exp-is-5-minutes-in-past-fails", func(t *testing.T, p *fapiProvider) {
		fapiBadAssertion(t, p, map[string]any{"exp": time.Now().Add(-5 * time.Minute).Unix(), "iat": time.Now().Add(-6 * time.Minute).Unix()})
	}},
	{"ensure-client-assertion-with-wrong-aud-fails", func(t *testing.T, p *fapiProvider) {
		fapiBadAssertion(t, p, map[string]any{"aud": "https://other.example/"})
	}},
	{"ensure-client-assertion-with-no-sub-fails", func(t *testing.T, p *fapiProvider) { fapiBadAssertion(t, p, map[string]any{"sub": nil}) }},
	{"par-test-array-as-audience-fails", func(t *testing.T, p *fapiProvider) {
		fapiBadAssertion(t, p, map[string]any{"aud": []string{p.s.Issuer}})
	}},
	{"par-test-par-endpoint-url-as-audience-fails", func(t *testing.T, p *fapiProvider) {
		fapiBadAssertion(t, p, map[string]any{"aud": p.endpoint(t, "pushed_authorization_request_endpoint")})
	}},
	{"par-test-token-endpoint-url-as-audience-fails", func(t *testing.T, p *fapiProvider) {
		fapiBadAssertion(t, p, map[string]any{"aud": p.endpoint(t, "token_endpoint")})
	}},
	{"par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-is-accepted", fapiAssertionNbf8},
	{"par-ensure-jwt-client-assertions-nbf-over-60-seconds-in-the-future-fails", func(t *testing.T, p *fapiProvider) {
		future := time.Now().Add(70 * time.Second).Unix()
		fapiBadAssertion(t, p, map[string]any{"iat": future, "nbf": future})
	}},
	{"dpop-negative-tests", fapiDPoPNegative},
	{"refresh-token", fapiRefreshToken},
	{"par-attempt-reuse-request_uri", fapiReuseRequestURI},
	{"par-attempt-to-use-request_uri-for-different-client", fapiRequestURIOfAnotherClient},
	{"par-authorization-request-containing-request_uri-form-param", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "request_uri inside a push", p.c1, p.authzFor(p.c1, "openid").set("request_uri", "urn:ietf:params:oauth:request_uri:x"), "invalid_request")
	}},
	{"par-attempt-invalid-http-method", fapiPARMethod},
	{"par-ensure-pkce-required", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "a push without PKCE", p.c1, p.authzFor(p.c1, "openid").without("code_challenge"), "invalid_request")
	}},
	{"par-plain-pkce-rejected", func(t *testing.T, p *fapiProvider) {
		p.pushError(t, "plain PKCE", p.c1, p.authzFor(p.c1, "openid").set("code_challenge_method", "plain"), "invalid_request")
	}},
	{"ensure-pkce-code-verifier-required", func(t *testing.T, p *fapiProvider) { fapiVerifier(t, p, "") }},
	{"incorrect-pkce-code-verifier-rejected", func(t *testing.T, p *fapiProvider) { fapiVerifier(t, p, random()) }},
	{"par-without-duplicate-parameters", func(t *testing.T, p *fapiProvider) {
		p.happy(t, p.c1, p.authzFor(p.c1, "openid")) // byReference sends client_id and request_uri only
	}},
}

// TestFAPI2 plays the FAPI 2.0 Security Profile plan's modules against
// one server with two fapi2 clients; each is a subtest named by its id:
//
//	go test -run 'TestFAPI2/fapi2-security-profile-final-happy-flow$' ./cmd/tsubasa/e2e/conformance/
func TestFAPI2(t *testing.T) {
	p := startFAPI2(t)
	for _, m := range fapi2Modules {
		t.Run("fapi2-security-profile-final-"+m.id, func(t *testing.T) { m.play(t, p) })
	}
}

// fapiDiscovery: what a FAPI 2.0 client reads in discovery (FAPI 2.0
// §5.3.2.1, RFC 8414, RFC 9126 §5, RFC 9207 §3, RFC 9449 §5.1).
func fapiDiscovery(t *testing.T, p *fapiProvider) {
	if !strings.HasPrefix(p.endpoint(t, "pushed_authorization_request_endpoint"), p.s.Issuer+"/") {
		t.Error("the pushed authorization request endpoint is not the issuer's")
	}
	for name, want := range map[string]string{
		"token_endpoint_auth_methods_supported":            "private_key_jwt",
		"token_endpoint_auth_signing_alg_values_supported": "PS256",
		"dpop_signing_alg_values_supported":                "ES256",
		"code_challenge_methods_supported":                 "S256",
		"response_types_supported":                         "code",
		"id_token_signing_alg_values_supported":            "PS256",
	} {
		if !slices.Contains(p.list(name), want) {
			t.Errorf("%s %v lacks %s", name, p.list(name), want)
		}
	}
	if p.meta["authorization_response_iss_parameter_supported"] != true {
		t.Error("authorization_response_iss_parameter_supported is not true")
	}
	if slices.Contains(p.list("response_types_supported"), "token") || slices.Contains(p.list("response_types_supported"), "code id_token") {
		t.Errorf("response_types_supported %v offers the implicit or hybrid flow", p.list("response_types_supported"))
	}
}

// fapiHappyFlow: the whole flow, the answer's iss, an ES256 ID token, a
// DPoP-bound token at the resource, and nothing else working with it.
func fapiHappyFlow(t *testing.T, p *fapiProvider) {
	tk, id := p.happy(t, p.c1, p.authzFor(p.c1, "openid profile"))
	if _, ok := id.claims["auth_time"]; !ok {
		t.Error("ID token without auth_time")
	}
	resourceRefused(t, "the DPoP token as Bearer", p.userinfoCall(t, getHeader, tk.access))
}

// fapiNotPushed: a request at /authorize that was not pushed is answered
// at the redirect URI with an error (FAPI 2.0 §5.3.2.2: PAR required).
func fapiNotPushed(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	p.authError(t, a, p.start(t, e2e.NewBrowser(t, p.s), a), "invalid_request")
}

// fapiReuseRequestURI: a request_uri is good once.
func fapiReuseRequestURI(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	u := p.byReference(t, p.c1, p.push(t, p.c1, a, true))
	b := e2e.NewBrowser(t, p.s)
	p.exchange(t, p.c1, a, p.code(t, a, login(t, b, b.Get(t, u), memberNumber, memberPass)))
	if pg := e2e.NewBrowser(t, p.s).Get(t, u); pg.Location != "" || pg.Status != http.StatusBadRequest {
		t.Errorf("the request_uri used again: %d, Location %q; want an error page and no redirect", pg.Status, pg.Location)
	}
}

// fapiRequestURIOfAnotherClient: a request_uri is its own client's.
func fapiRequestURIOfAnotherClient(t *testing.T, p *fapiProvider) {
	uri := p.push(t, p.c1, p.authzFor(p.c1, "openid"), true)
	if pg := e2e.NewBrowser(t, p.s).Get(t, p.byReference(t, p.c2, uri)); pg.Location != "" || pg.Status != http.StatusBadRequest {
		t.Errorf("client2 with client1's request_uri: %d, Location %q", pg.Status, pg.Location)
	}
}

// fapiPARMethod: the pushed request endpoint takes POST only.
func fapiPARMethod(t *testing.T, p *fapiProvider) {
	u := p.endpoint(t, "pushed_authorization_request_endpoint") + "?" + p.authzFor(p.c1, "openid").params.Encode()
	w := get(t, u, "")
	e2e.CheckWire(t, "GET at the pushed request endpoint", w, false)
	if w.Status != http.StatusMethodNotAllowed && w.Status != http.StatusBadRequest {
		t.Errorf("GET at the pushed request endpoint: %d %s", w.Status, w.Body)
	}
}

// fapiVerifier: a code is redeemed only with its PKCE verifier.
func fapiVerifier(t *testing.T, p *fapiProvider, verifier string) {
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	form := p.codeGrant(a, code)
	form.Del("code_verifier")
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	w := p.post(t, p.c1, "token_endpoint", form, true)
	if verifier == "" && w.JSON(t)["error"] == "invalid_request" {
		// RFC 7636 §4.6 names invalid_grant for a wrong verifier; a missing
		// one is a missing parameter (RFC 6749 §5.2), as the plan allows.
		tokenError(t, "a code without a verifier", w, http.StatusBadRequest, "invalid_request")
		return
	}
	tokenError(t, "a code with a wrong or no verifier", w, http.StatusBadRequest, "invalid_grant")
}

// fapiCodeReuse: a code used twice is refused, and what it bought is
// revoked.
func fapiCodeReuse(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	tk, id := p.exchange(t, p.c1, a, code)
	time.Sleep(time.Second)
	tokenError(t, "the code again after a second", p.post(t, p.c1, "token_endpoint", p.codeGrant(a, code), true), http.StatusBadRequest, "invalid_grant")
	w := p.resource(t, p.c1, "DPoP", tk.access, nil)
	if w.Status == http.StatusOK {
		t.Errorf("the access token of a replayed code still works at the resource (sub %s)", id.Subject)
	}
}

// fapiCodeOfAnotherClient: client2 cannot redeem client1's code.
func fapiCodeOfAnotherClient(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	w := p.post(t, p.c2, "token_endpoint", p.codeGrant(a, code), true)
	e2e.CheckWire(t, "client2 with client1's code", w, false)
	if w.Status != http.StatusBadRequest && w.Status != http.StatusUnauthorized {
		t.Errorf("client2 with client1's code: %d %s", w.Status, w.Body)
	}
	if _, ok := w.JSON(t)["access_token"]; ok {
		t.Error("client2 got a token with client1's code")
	}
}

// fapiNoAssertion: the token endpoint wants the client's assertion.
func fapiNoAssertion(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	form := p.codeGrant(a, p.pushedLogin(t, p.c1, a))
	form.Set("client_id", p.c1.id)
	tokenError(t, "a code exchange without an assertion", p.postAs(t, p.c1, "token_endpoint", form, true), http.StatusUnauthorized, "invalid_client")
}

// fapiBadAssertion: a push with an assertion whose claims change alters
// is refused with invalid_client.
func fapiBadAssertion(t *testing.T, p *fapiProvider, change map[string]any) {
	form := e2e.AssertionForm(p.authzFor(p.c1, "openid").params, p.assertion(t, p.c1, change))
	tokenError(t, "a push with a bad assertion", p.postAs(t, p.c1, "pushed_authorization_request_endpoint", form, true), http.StatusUnauthorized, "invalid_client")
}

// fapiAssertionNbf8: an assertion dated 8 s ahead (a client's clock
// running fast) is accepted (FAPI 2.0 §5.3.1: tolerate 10 s of skew).
func fapiAssertionNbf8(t *testing.T, p *fapiProvider) {
	ahead := time.Now().Add(8 * time.Second).Unix()
	form := e2e.AssertionForm(p.authzFor(p.c1, "openid").params, p.assertion(t, p.c1, map[string]any{"iat": ahead, "nbf": ahead}))
	if w := p.postAs(t, p.c1, "pushed_authorization_request_endpoint", form, true); w.Status != http.StatusCreated {
		t.Errorf("a push with an assertion 8 s ahead: %d %s", w.Status, w.Body)
	}
}
