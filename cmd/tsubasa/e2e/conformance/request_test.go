package conformance

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// Request objects (OpenID Connect Core 1.0 §6). Tsubasa takes signed
// request objects by value from clients that registered keys (and a
// request_uri only from its pushed authorization request endpoint: the
// partner suites play both), never an unsigned one, and fetches no
// request_uri. For the clients of these plans, which registered no keys,
// §6.1 and §6.2 want the errors request_not_supported and
// request_uri_not_supported, sent to the registered redirect URI with the
// state (§3.1.2.6), never the request processed as if the object were not
// there.

// unsignedObject is a's parameters as an unsecured request object (alg
// none; §6.1), with iss and aud as a client sets them.
func (p *provider) unsignedObject(a *authz) string {
	claims := map[string]any{"iss": a.c.id, "aud": p.s.Issuer}
	for k := range a.params {
		claims[k] = a.params.Get(k)
	}
	header, _ := json.Marshal(map[string]string{"alg": "none"})
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// byObject is the authorization request that carries a's parameters in
// an object: response_type, client_id, scope and redirect_uri stay in
// the query as §6.1 requires, and state too, so the error can carry it.
func byObject(a *authz, param, value string) *authz {
	out := &authz{c: a.c, state: a.state, nonce: a.nonce, verifier: a.verifier, params: map[string][]string{param: {value}}}
	for _, k := range []string{"response_type", "client_id", "scope", "redirect_uri", "state"} {
		out.params.Set(k, a.params.Get(k))
	}
	return out
}

// unsignedRequestObject:
// oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported.
// none is not among request_object_signing_alg_values_supported, so the
// module's unsigned object must be refused, not processed.
func unsignedRequestObject(t *testing.T, p *provider) {
	if algs := p.list("request_object_signing_alg_values_supported"); slices.Contains(algs, "none") {
		t.Errorf("request_object_signing_alg_values_supported = %v lists none", algs)
	}
	a := p.newAuthz(web, "openid")
	ro := byObject(a, "request", p.unsignedObject(a))
	p.authError(t, ro, p.start(t, e2e.NewBrowser(t, p.s), ro), "request_not_supported")
}

// requestURIUnsigned:
// oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported.
// The provider does not fetch the URI either (that would let anyone make
// it send requests into its own network).
func requestURIUnsigned(t *testing.T, p *provider) {
	if v, ok := p.meta["request_uri_parameter_supported"]; !ok || v != false {
		// Absent means true (OpenID Connect Discovery 1.0 §3).
		t.Errorf("request_uri_parameter_supported = %v (present %v), want an explicit false", v, ok)
	}
	a := p.newAuthz(web, "openid")
	object := p.unsignedObject(a)
	var fetched atomic.Int32
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
		_, _ = w.Write([]byte(object))
	}))
	t.Cleanup(host.Close)

	ro := byObject(a, "request_uri", host.URL+"/request.jwt")
	p.authError(t, ro, p.start(t, e2e.NewBrowser(t, p.s), ro), "request_uri_not_supported")
	if n := fetched.Load(); n != 0 {
		t.Errorf("the provider fetched the request_uri %d times", n)
	}
}

// requestObjectWithRedirectURI: oidcc-ensure-request-object-with-redirect-uri.
// The object holds the registered redirect URI, the query another one.
// A provider that read the object would use the object's; Tsubasa does
// not read an object of a client without keys (nor an unsigned one), so
// it sees only the unregistered one in the query and redirects nowhere
// (RFC 6749 §4.1.2.1): the error page.
func requestObjectWithRedirectURI(t *testing.T, p *provider) {
	a := p.newAuthz(web, "openid")
	ro := byObject(a, "request", p.unsignedObject(a))
	ro.params.Set("redirect_uri", p.redirect+"/not-registered")
	pg := p.start(t, e2e.NewBrowser(t, p.s), ro)
	if pg.Location != "" || pg.Status != http.StatusBadRequest {
		t.Errorf("request object with a bad redirect_uri in the query: %d, Location %q; want the 400 error page", pg.Status, pg.Location)
	}
}
