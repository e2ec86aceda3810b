package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// The FAPI 2.0 relying party of the conformance suite: a confidential
// client with private_key_jwt (RFC 7523, its key inline) and DPoP (RFC
// 9449), pushing every request (RFC 9126). Like the Basic OP's relying
// party it is written from the specifications on net/http and go-jose
// (e2e's partner and DPoP helpers): every request built by hand, every
// answer read raw.

// fapiClient is a client registered with profile fapi2.
type fapiClient struct {
	id   string
	auth e2e.PartnerKey
	dpop *e2e.DPoPKey
}

// fapiProvider is the suite's server with two FAPI clients (the plan's
// client and client2).
type fapiProvider struct {
	*provider
	c1, c2 fapiClient
}

func startFAPI2(t *testing.T) *fapiProvider {
	t.Helper()
	p := &fapiProvider{provider: startProvider(t)}
	for i, id := range []string{"fapi-client", "fapi-client2"} {
		c := fapiClient{id: id, auth: e2e.NewPartnerKey(t, id+"-key"), dpop: e2e.NewDPoPKey(t)}
		p.s.CLI(t, false, "client", "add", "--id", id, "--redirect-uri", p.redirect,
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks", c.auth.JWKS, "--profile", "fapi2")
		if i == 0 {
			p.c1 = c
		} else {
			p.c2 = c
		}
	}
	return p
}

// asClient is c as the Basic OP relying party's ID token checks know it.
func (c fapiClient) asClient() client { return client{id: c.id, alg: "ES256"} }

// authzFor is newAuthz for a FAPI client.
func (p *fapiProvider) authzFor(c fapiClient, scope string) *authz {
	return p.newAuthz(c.asClient(), scope)
}

// assertion is a client assertion of c with claims changed (nil deletes).
func (p *fapiProvider) assertion(t *testing.T, c fapiClient, change map[string]any) string {
	t.Helper()
	claims := e2e.AssertionClaims(c.id, p.s.Issuer)
	for k, v := range change {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return c.auth.Sign(t, claims, "")
}

// post posts form to endpoint as c, authenticated by a fresh assertion,
// with a DPoP proof by c's key when withProof.
func (p *fapiProvider) post(t *testing.T, c fapiClient, endpoint string, form url.Values, withProof bool) e2e.Wire {
	t.Helper()
	return p.postAs(t, c, endpoint, e2e.AssertionForm(form, p.assertion(t, c, nil)), withProof)
}

// postAs posts form as it is (its client authentication included).
func (p *fapiProvider) postAs(t *testing.T, c fapiClient, endpoint string, form url.Values, withProof bool) e2e.Wire {
	t.Helper()
	u := p.endpoint(t, endpoint)
	if !withProof {
		return e2e.WireDo(t, e2e.NewFormRequest(t.Context(), u, form.Encode()))
	}
	return c.dpop.Do(t, func() *http.Request { return e2e.NewFormRequest(t.Context(), u, form.Encode()) }, "")
}

// push pushes a's parameters for c and returns the request_uri, checking
// RFC 9126 §2.2's answer.
func (p *fapiProvider) push(t *testing.T, c fapiClient, a *authz, withProof bool) string {
	t.Helper()
	w := p.post(t, c, "pushed_authorization_request_endpoint", a.params, withProof)
	e2e.CheckWire(t, "pushed authorization request", w, false)
	body := w.JSON(t)
	uri, _ := body["request_uri"].(string)
	exp, _ := body["expires_in"].(float64)
	if w.Status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || exp <= 0 || exp >= 600 {
		t.Fatalf("push: %d %s (FAPI 2.0: a request_uri that lives under 600 s)", w.Status, w.Body)
	}
	return uri
}

// pushError checks a refused push: 400 with error code.
func (p *fapiProvider) pushError(t *testing.T, what string, c fapiClient, a *authz, code string) {
	t.Helper()
	tokenError(t, what, p.post(t, c, "pushed_authorization_request_endpoint", a.params, true), http.StatusBadRequest, code)
}

// byReference is the front-channel request for a pushed one: client_id
// and request_uri only.
func (p *fapiProvider) byReference(t *testing.T, c fapiClient, uri string) string {
	return p.endpoint(t, "authorization_endpoint") + "?" + url.Values{"client_id": {c.id}, "request_uri": {uri}}.Encode()
}

// pushedLogin pushes a (with a proof, binding the code to c's key), logs
// the member in and returns the code.
func (p *fapiProvider) pushedLogin(t *testing.T, c fapiClient, a *authz) string {
	t.Helper()
	b := e2e.NewBrowser(t, p.s)
	pg := login(t, b, b.Get(t, p.byReference(t, c, p.push(t, c, a, true))), memberNumber, memberPass)
	return p.code(t, a, pg)
}

// fapiTokens checks a successful FAPI token response: what tokenResponse
// checks, with token_type DPoP (RFC 9449 §5) in place of Bearer.
func (p *fapiProvider) fapiTokens(t *testing.T, what string, w e2e.Wire, wantIDToken bool) tokens {
	t.Helper()
	e2e.CheckWire(t, what, w, false)
	if w.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, w.Status, w.Body)
	}
	body := w.JSON(t)
	if tt, _ := body["token_type"].(string); !strings.EqualFold(tt, "DPoP") {
		t.Errorf("%s: token_type %q, want DPoP (FAPI 2.0: sender-constrained tokens only)", what, body["token_type"])
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	tk := tokens{access: str("access_token"), refresh: str("refresh_token"), idToken: str("id_token"), scope: str("scope"), body: body}
	if tk.access == "" || !vschar(tk.access) || (wantIDToken && tk.idToken == "") {
		t.Errorf("%s: access_token %q, id_token %q", what, tk.access, tk.idToken)
	}
	return tk
}

// exchange trades a code of request a with an assertion and a proof.
func (p *fapiProvider) exchange(t *testing.T, c fapiClient, a *authz, code string) (tokens, idToken) {
	t.Helper()
	tk := p.fapiTokens(t, "code exchange", p.post(t, c, "token_endpoint", p.codeGrant(a, code), true), true)
	id := p.verifyIDToken(t, tk.idToken, c.asClient(), idWant{nonce: a.nonce, accessToken: tk.access, code: code})
	return tk, id
}

// resource calls userinfo (the plan's resource) with a DPoP-bound token
// and a proof whose claims change alters, sending the token with scheme.
func (p *fapiProvider) resource(t *testing.T, c fapiClient, scheme, access string, change func(map[string]any)) e2e.Wire {
	t.Helper()
	u := p.endpoint(t, "userinfo_endpoint")
	claims := c.dpop.ProofClaims(http.MethodGet, u, access)
	if change != nil {
		change(claims)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("Authorization", scheme+" "+access)
	req.Header.Set("DPoP", c.dpop.Sign(t, claims))
	return e2e.WireDo(t, req)
}

// resourceOK checks a successful resource answer for the ID token's sub.
func (p *fapiProvider) resourceOK(t *testing.T, what string, w e2e.Wire, sub string) {
	t.Helper()
	e2e.CheckWire(t, what, w, false)
	if w.Status != http.StatusOK || w.JSON(t)["sub"] != sub {
		t.Errorf("%s: %d %s", what, w.Status, w.Body)
	}
}

// resourceRefused checks a 401 with a DPoP or Bearer challenge.
func resourceRefused(t *testing.T, what string, w e2e.Wire) {
	t.Helper()
	e2e.CheckWire(t, what, w, false)
	if w.Status != http.StatusUnauthorized && w.Status != http.StatusBadRequest {
		t.Errorf("%s: %d %s, want 400 or 401", what, w.Status, w.Body)
	}
}

// happy is one whole FAPI flow of c for request a: the tokens and the ID
// token, the access token checked at the resource.
func (p *fapiProvider) happy(t *testing.T, c fapiClient, a *authz) (tokens, idToken) {
	t.Helper()
	tk, id := p.exchange(t, c, a, p.pushedLogin(t, c, a))
	p.resourceOK(t, "resource with DPoP", p.resource(t, c, "DPoP", tk.access, nil), id.Subject)
	return tk, id
}

// at shifts a proof's or an assertion's iat (and nbf) by d.
func at(d time.Duration) func(map[string]any) {
	return func(c map[string]any) { c["iat"] = time.Now().Add(d).Unix() }
}
