package conformance

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"tsubasa/cmd/tsubasa/e2e"
)

// The FAPI 2.0 plan's DPoP modules (RFC 9449): proofs at the token and
// pushed request endpoints and at the resource (userinfo), the binding of
// the code (dpop_jkt, §10) and of the tokens, and the refresh token of a
// sender-constrained client.

// postProof posts form (its client authentication included) to endpoint
// with a proof by c's key whose claims change alters.
func (p *fapiProvider) postProof(t *testing.T, c fapiClient, endpoint string, form url.Values, change func(map[string]any)) e2e.Wire {
	t.Helper()
	u := p.endpoint(t, endpoint)
	claims := c.dpop.ProofClaims(http.MethodPost, u, "")
	if change != nil {
		change(claims)
	}
	req := e2e.NewFormRequest(t.Context(), u, form.Encode())
	req.Header.Set("DPoP", c.dpop.Sign(t, claims))
	return e2e.WireDo(t, req)
}

// fapiProofIat: proofs dated d from now (10 s either way) are accepted,
// at the token endpoint and at the resource (FAPI 2.0 §5.3.1: clock skew).
func fapiProofIat(t *testing.T, p *fapiProvider, d time.Duration) {
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	w := p.postProof(t, p.c1, "token_endpoint", e2e.AssertionForm(p.codeGrant(a, code), p.assertion(t, p.c1, nil)), at(d))
	tk := p.fapiTokens(t, "a token request with a proof off by "+d.String(), w, true)
	id := p.verifyIDToken(t, tk.idToken, p.c1.asClient(), idWant{nonce: a.nonce, accessToken: tk.access, code: code})
	p.resourceOK(t, "a resource proof off by "+d.String(), p.resource(t, p.c1, "DPoP", tk.access, at(d)), id.Subject)
}

// fapiProofNbfExp: proofs with nbf and exp (which RFC 9449 does not
// define) are accepted.
func fapiProofNbfExp(t *testing.T, p *fapiProvider) {
	window := func(c map[string]any) { c["nbf"], c["exp"] = time.Now().Unix(), time.Now().Add(5*time.Minute).Unix() }
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	w := p.postProof(t, p.c1, "token_endpoint", e2e.AssertionForm(p.codeGrant(a, code), p.assertion(t, p.c1, nil)), window)
	tk := p.fapiTokens(t, "a token request with nbf and exp in the proof", w, true)
	id := p.verifyIDToken(t, tk.idToken, p.c1.asClient(), idWant{nonce: a.nonce, accessToken: tk.access, code: code})
	p.resourceOK(t, "a resource proof with nbf and exp", p.resource(t, p.c1, "DPoP", tk.access, window), id.Subject)
}

// fapiSchemeCase: the DPoP scheme is case-insensitive (RFC 9110 §11.1).
func fapiSchemeCase(t *testing.T, p *fapiProvider) {
	tk, id := p.happy(t, p.c1, p.authzFor(p.c1, "openid"))
	for _, scheme := range []string{"dpop", "DPOP", "dPoP"} {
		p.resourceOK(t, "scheme "+scheme, p.resource(t, p.c1, scheme, tk.access, nil), id.Subject)
	}
}

// fapiMismatchedJKTAtPAR: a push whose dpop_jkt is not its proof's key.
func fapiMismatchedJKTAtPAR(t *testing.T, p *fapiProvider) {
	p.pushError(t, "dpop_jkt of another key", p.c1, p.authzFor(p.c1, "openid").set("dpop_jkt", p.c2.dpop.JKT), "invalid_request")
}

// fapiMismatchedProofKey: the push's proof and the token request's are
// made with different keys: the code is bound to the first.
func fapiMismatchedProofKey(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	other := fapiClient{id: p.c1.id, auth: p.c1.auth, dpop: e2e.NewDPoPKey(t)}
	tokenError(t, "a token request by another DPoP key", p.post(t, other, "token_endpoint", p.codeGrant(a, code), true), http.StatusBadRequest, "invalid_dpop_proof")
}

// bindingLogin pushes a without a proof, dpop_jkt set to jkt, and logs in.
func (p *fapiProvider) bindingLogin(t *testing.T, a *authz, jkt string) string {
	t.Helper()
	a.set("dpop_jkt", jkt)
	b := e2e.NewBrowser(t, p.s)
	uri := p.push(t, p.c1, a, false)
	return p.code(t, a, login(t, b, b.Get(t, p.byReference(t, p.c1, uri)), memberNumber, memberPass))
}

// fapiMismatchedDPoPJKT: a code requested with dpop_jkt of one key is
// refused with a proof by another.
func fapiMismatchedDPoPJKT(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	code := p.bindingLogin(t, a, p.c2.dpop.JKT)
	tokenError(t, "a code bound by dpop_jkt, another key's proof", p.post(t, p.c1, "token_endpoint", p.codeGrant(a, code), true), http.StatusBadRequest, "invalid_dpop_proof")
}

// fapiDPoPJKTBinding: a code requested with dpop_jkt is redeemed with a
// proof by that key.
func fapiDPoPJKTBinding(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	tk, id := p.exchange(t, p.c1, a, p.bindingLogin(t, a, p.c1.dpop.JKT))
	p.resourceOK(t, "resource", p.resource(t, p.c1, "DPoP", tk.access, nil), id.Subject)
}

// fapiHolderOfKey: a token request without a proof is refused.
func fapiHolderOfKey(t *testing.T, p *fapiProvider) {
	a := p.authzFor(p.c1, "openid")
	code := p.pushedLogin(t, p.c1, a)
	tokenError(t, "a code exchange without a proof", p.post(t, p.c1, "token_endpoint", p.codeGrant(a, code), false), http.StatusBadRequest, "invalid_dpop_proof")
}

// fapiClaimsParameter: identity claims asked for in the ID token with the
// claims parameter are released there, for the scopes granted; unknown
// claims are ignored.
func fapiClaimsParameter(t *testing.T, p *fapiProvider) {
	claims := `{"id_token":{"family_name":{"essential":true},"given_name":null,"name":null,"unknown_claim":null},` +
		`"userinfo":{"name":null,"another_unknown":{"essential":true}}}`
	_, id := p.happy(t, p.c1, p.authzFor(p.c1, "openid profile").set("claims", claims))
	for _, k := range []string{"family_name", "given_name", "name"} {
		if _, ok := id.claims[k]; !ok {
			t.Errorf("ID token lacks %s, asked for there: %v", k, id.claims)
		}
	}
	if _, ok := id.claims["unknown_claim"]; ok {
		t.Error("an unknown claim came back")
	}
}

// fapiRefreshToken: the refresh token of a FAPI client is bound to its
// authentication and not rotated (FAPI 2.0 §5.3.2.1): it comes back the
// same and works again, never without the client's assertion, never for
// client2, never without a proof; the new ID token keeps the original's
// identity (OpenID Connect Core 1.0 §12.2).
func fapiRefreshToken(t *testing.T, p *fapiProvider) {
	tk, first := p.happy(t, p.c1, p.authzFor(p.c1, "openid offline_access"))
	if tk.refresh == "" {
		t.Fatal("no refresh token")
	}
	grant := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}}
	afterSecond(int64(*first.IssuedAt))
	for i := range 2 {
		next := p.fapiTokens(t, "refresh", p.post(t, p.c1, "token_endpoint", grant, true), true)
		p.verifyIDToken(t, next.idToken, p.c1.asClient(), idWant{refreshOf: &first, accessToken: next.access})
		if next.refresh != tk.refresh {
			t.Errorf("refresh %d: a new refresh token; FAPI 2.0 clients' are not rotated", i+1)
		}
	}
	noAuth := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}, "client_id": {p.c1.id}}
	tokenError(t, "refresh without client authentication", p.postAs(t, p.c1, "token_endpoint", noAuth, true), http.StatusUnauthorized, "invalid_client")
	tokenError(t, "refresh by client2", p.post(t, p.c2, "token_endpoint", grant, true), http.StatusBadRequest, "invalid_grant")
	tokenError(t, "refresh without a proof", p.post(t, p.c1, "token_endpoint", grant, false), http.StatusBadRequest, "invalid_dpop_proof")
}

// fapiDPoPNegative: fapi2-security-profile-final-dpop-negative-tests, the
// checks of RFC 9449 §4.3 and §7.1 at the resource, then a sound proof
// that still works.
func fapiDPoPNegative(t *testing.T, p *fapiProvider) {
	tk, id := p.happy(t, p.c1, p.authzFor(p.c1, "openid"))
	c := p.c1
	u := p.endpoint(t, "userinfo_endpoint")
	send := func(auth string, proofs ...string) e2e.Wire {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u+"?x=1", nil)
		req.Header.Set("Authorization", auth)
		for _, pr := range proofs {
			req.Header.Add("DPoP", pr)
		}
		return e2e.WireDo(t, req)
	}
	claims := func(change func(map[string]any)) map[string]any {
		cl := c.dpop.ProofClaims(http.MethodGet, u, tk.access)
		if change != nil {
			change(cl)
		}
		return cl
	}
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	sound := func() string { return c.dpop.Sign(t, claims(nil)) }
	withHeader := func(h map[jose.HeaderKey]any) string { return signRaw(t, c.dpop, h, claims(nil)) }
	good := sound()
	parts := strings.Split(good, ".")
	fixed := claims(set("jti", "fixed-"+random()))
	p.resourceOK(t, "first use of a jti", send("DPoP "+tk.access, c.dpop.Sign(t, fixed)), id.Subject)
	for what, w := range map[string]e2e.Wire{
		"two DPoP headers":               send("DPoP "+tk.access, sound(), sound()),
		"a proof that is no JWT":         send("DPoP "+tk.access, "not-a-jwt"),
		"no typ":                         send("DPoP "+tk.access, withHeader(map[jose.HeaderKey]any{"typ": ""})),
		"typ JWT":                        send("DPoP "+tk.access, withHeader(map[jose.HeaderKey]any{"typ": "JWT"})),
		"no jwk":                         send("DPoP "+tk.access, withHeader(map[jose.HeaderKey]any{"jwk": nil})),
		"alg none":                       send("DPoP "+tk.access, base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt"}`))+"."+parts[1]+"."),
		"an invalid signature":           send("DPoP "+tk.access, parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(make([]byte, 64))),
		"no jti":                         send("DPoP "+tk.access, c.dpop.Sign(t, claims(del("jti")))),
		"no htm":                         send("DPoP "+tk.access, c.dpop.Sign(t, claims(del("htm")))),
		"no htu":                         send("DPoP "+tk.access, c.dpop.Sign(t, claims(del("htu")))),
		"no iat":                         send("DPoP "+tk.access, c.dpop.Sign(t, claims(del("iat")))),
		"no ath":                         send("DPoP "+tk.access, c.dpop.Sign(t, claims(del("ath")))),
		"htm PUT":                        send("DPoP "+tk.access, c.dpop.Sign(t, claims(set("htm", "PUT")))),
		"htu of another URL":             send("DPoP "+tk.access, c.dpop.Sign(t, claims(set("htu", p.endpoint(t, "token_endpoint"))))),
		"iat an hour ahead":              send("DPoP "+tk.access, c.dpop.Sign(t, claims(at(time.Hour)))),
		"iat an hour ago":                send("DPoP "+tk.access, c.dpop.Sign(t, claims(at(-time.Hour)))),
		"the jti again":                  send("DPoP "+tk.access, c.dpop.Sign(t, fixed)),
		"a wrong ath":                    send("DPoP "+tk.access, c.dpop.Sign(t, claims(set("ath", "x")))),
		"another key":                    send("DPoP "+tk.access, e2e.NewDPoPKey(t).Sign(t, claims(nil))),
		"no proof":                       send("DPoP " + tk.access),
		"Bearer and no proof":            send("Bearer " + tk.access),
		"Bearer with a sound proof":      send("Bearer "+tk.access, sound()),
		"the access token of nobody":     send("DPoP "+rand.Text(), sound()),
		"a proof for the token endpoint": send("DPoP "+tk.access, c.dpop.Sign(t, claims(set("htm", "POST")))),
	} {
		resourceRefused(t, what, w)
	}
	upper := strings.Replace(u, "http://", "HTTP://", 1)
	for what, w := range map[string]e2e.Wire{
		"htu with a query and a fragment": send("DPoP "+tk.access, c.dpop.Sign(t, claims(set("htu", u+"?y=2#f")))),
		"htu with the scheme in capitals": send("DPoP "+tk.access, c.dpop.Sign(t, claims(set("htu", upper)))),
		"extra claims and headers":        send("DPoP "+tk.access, signRaw(t, c.dpop, map[jose.HeaderKey]any{"x-extra": "1"}, claims(set("x-extra", 2)))),
		"a sound proof at last":           send("DPoP "+tk.access, sound()),
	} {
		p.resourceOK(t, what, w, id.Subject)
	}
}

// signRaw signs claims with key k as a DPoP proof with typ dpop+jwt and
// the jwk header, header overriding them ("" typ or nil jwk drops it).
func signRaw(t *testing.T, k *e2e.DPoPKey, header map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: true}
	if typ, ok := header["typ"]; !ok {
		opts = opts.WithType("dpop+jwt")
	} else if typ != "" {
		opts = opts.WithType(jose.ContentType(typ.(string)))
	}
	for h, v := range header {
		switch {
		case h == "typ":
		case h == "jwk" && v == nil:
			opts.EmbedJWK = false
		default:
			opts = opts.WithHeader(h, v)
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(mustJSON(t, claims))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
