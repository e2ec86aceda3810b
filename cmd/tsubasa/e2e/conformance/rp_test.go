package conformance

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"tsubasa/cmd/tsubasa/e2e"
)

// The relying party's side of the code flow, from OpenID Connect Core 1.0
// §3.1 and RFC 6749 §4.1, on net/http: requests are built by hand and
// answers read raw.

// The member every module logs in as, with every claim Tsubasa can
// release filled in (names in two scripts, email, phone).
const (
	memberNumber = "1234567"
	memberPass   = "Tsubasa-Conf-2026"
	// otherNumber is a second member, for the hints that name someone else.
	otherNumber = "7654321"
	otherPass   = "Hikouki-Conf-2026"
)

// client is a registered client as the relying party knows it.
type client struct {
	id, secret string
	alg        string // the ID token algorithm it registered
}

// The harness's clients (e2e.Start's base config).
var (
	web      = client{id: "web", secret: "web-secret-0123456789", alg: "RS256"}
	webES256 = client{id: "web-es256", secret: "es-secret-0123456789", alg: "ES256"}
	spa      = client{id: "spa", alg: "RS256"}
)

// provider is Tsubasa as a relying party finds it: the issuer, its
// discovery document and its key set, fetched once.
type provider struct {
	s        *e2e.Server
	meta     map[string]any
	keys     jose.JSONWebKeySet
	redirect string // every harness client's one registered redirect URI
	// subs is the sub each client first saw for the suite's member: it
	// must never change (OpenID Connect Core 1.0 §2: never reassigned).
	// Modules run one after another, so no lock.
	subs map[string]string
}

// startProvider starts the one server of the suite with its two members
// and reads discovery and the key set as a relying party does first.
func startProvider(t *testing.T) *provider {
	t.Helper()
	s := e2e.Start(t, e2e.Options{})
	s.CLI(t, false, "member", "create", "--number", memberNumber, "--password", memberPass,
		"--family-name", "空野", "--given-name", "花子", "--family-name-latin", "SORANO", "--given-name-latin", "HANAKO",
		"--email", "hanako@example.com", "--phone", "+819012345678", "--country", "JP", "--locale", "ja")
	s.CLI(t, false, "member", "create", "--number", otherNumber, "--password", otherPass,
		"--family-name", "海野", "--given-name", "太郎", "--email", "taro@example.com", "--country", "JP")
	p := &provider{s: s, redirect: s.Issuer + "/rp/callback", subs: map[string]string{}}
	d := get(t, s.Issuer+"/.well-known/openid-configuration", "")
	e2e.CheckWire(t, "discovery", d, true)
	if d.Status != http.StatusOK {
		t.Fatalf("discovery: %d %s", d.Status, d.Body)
	}
	p.meta = d.JSON(t)
	jwksURI, _ := p.meta["jwks_uri"].(string)
	k := get(t, jwksURI, "")
	e2e.CheckWire(t, "jwks_uri", k, true)
	if k.Status != http.StatusOK {
		t.Fatalf("jwks_uri: %d %s", k.Status, k.Body)
	}
	if err := json.Unmarshal(k.Body, &p.keys); err != nil {
		t.Fatalf("jwks_uri is no JWK Set: %v", err)
	}
	return p
}

// endpoint is a URL from discovery.
func (p *provider) endpoint(t *testing.T, name string) string {
	t.Helper()
	u, _ := p.meta[name].(string)
	if u == "" {
		t.Fatalf("discovery has no %s", name)
	}
	return u
}

// list is a discovery array of strings (nil when absent).
func (p *provider) list(name string) []string {
	raw, _ := p.meta[name].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// get fetches a URL without cookies, redirects not followed.
func get(t *testing.T, u, authorization string) e2e.Wire {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return e2e.WireDo(t, req)
}

// random is an unguessable value for state, nonce and the PKCE verifier.
func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authz is one authorization request and the secrets the relying party
// keeps for it.
type authz struct {
	c                      client
	params                 url.Values
	state, nonce, verifier string
}

// newAuthz is the plain request every module starts from: response_type
// code, the client's redirect URI, state, nonce and PKCE S256 (RFC 9700
// §2.1.1: every client uses PKCE).
func (p *provider) newAuthz(c client, scope string) *authz {
	a := &authz{c: c, state: random(), nonce: random(), verifier: random()}
	sum := sha256.Sum256([]byte(a.verifier))
	a.params = url.Values{
		"response_type":         {"code"},
		"client_id":             {c.id},
		"redirect_uri":          {p.redirect},
		"scope":                 {scope},
		"state":                 {a.state},
		"nonce":                 {a.nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return a
}

// without drops a parameter and the secret the relying party kept for it.
func (a *authz) without(name string) *authz {
	a.params.Del(name)
	switch name {
	case "nonce":
		a.nonce = ""
	case "state":
		a.state = ""
	case "code_challenge":
		a.params.Del("code_challenge_method")
		a.verifier = ""
	}
	return a
}

// set sets parameters, name and value pairs.
func (a *authz) set(kv ...string) *authz {
	for i := 0; i+1 < len(kv); i += 2 {
		a.params.Set(kv[i], kv[i+1])
	}
	return a
}

func (p *provider) authURL(t *testing.T, a *authz) string {
	return p.endpoint(t, "authorization_endpoint") + "?" + a.params.Encode()
}

// start sends the browser to the authorization endpoint. The browser
// follows the provider's redirects and stops at the relying party.
func (p *provider) start(t *testing.T, b *e2e.Browser, a *authz) e2e.Page {
	t.Helper()
	return b.Get(t, p.authURL(t, a))
}

// isLoginPage reports whether a page is the login form.
func isLoginPage(pg e2e.Page) bool {
	return pg.Status == http.StatusOK && pg.URL.Path == "/login" && strings.Contains(pg.Body, `autocomplete="current-password"`)
}

// checkPage checks what a page of the provider (the login form, an
// error page) must carry: no framing (RFC 9700 §4.16: the authorization
// server MUST prevent clickjacking), no Referer to where its links lead
// (§4.2.4), nothing cached, no script but its own.
func checkPage(t *testing.T, what string, pg e2e.Page) {
	t.Helper()
	h := pg.Header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.EqualFold(h.Get("X-Frame-Options"), "DENY") {
		t.Errorf("%s: framing allowed: Content-Security-Policy %q, X-Frame-Options %q", what, csp, h.Get("X-Frame-Options"))
	}
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy %q allows scripts that are not the provider's own files", what, csp)
	}
	if h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q, want no-referrer", what, h.Get("Referrer-Policy"))
	}
	if !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", what, h.Get("Cache-Control"))
	}
}

// login fills in the login form a page shows and submits it.
func login(t *testing.T, b *e2e.Browser, pg e2e.Page, number, password string) e2e.Page {
	t.Helper()
	if !isLoginPage(pg) {
		t.Fatalf("want the login form, got %d at %s:\n%.600s", pg.Status, pg.URL, pg.Body)
	}
	checkPage(t, "login page", pg)
	return b.Post(t, pg.URL, "/login", url.Values{"authRequestID": {pg.AuthRequestID(t)},
		"member_number": {number}, "password": {password}})
}

// loginAs runs a whole authorization request with a login as the member
// and returns the code.
func (p *provider) loginAs(t *testing.T, b *e2e.Browser, a *authz, number, password string) string {
	t.Helper()
	return p.code(t, a, login(t, b, p.start(t, b, a), number, password))
}

// redirected checks that pg is the provider's redirect to the relying
// party's registered redirect URI (never anywhere else) and returns its
// query, where a code-flow answer travels (RFC 6749 §4.1.2).
func (p *provider) redirected(t *testing.T, pg e2e.Page) url.Values {
	t.Helper()
	if pg.Location == "" {
		t.Fatalf("want a redirect to the relying party, got %d at %s:\n%.600s", pg.Status, pg.URL, pg.Body)
	}
	if pg.Status != http.StatusFound && pg.Status != http.StatusSeeOther {
		// RFC 9700 §4.12: never 307, which would repost the login form.
		t.Errorf("redirect to the relying party with status %d, want 302 or 303", pg.Status)
	}
	u, err := url.Parse(pg.Location)
	if err != nil {
		t.Fatalf("redirect Location %q: %v", pg.Location, err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != p.redirect {
		t.Fatalf("redirected to %s, want the registered %s", pg.Location, p.redirect)
	}
	if u.Fragment != "" {
		t.Errorf("code-flow answer in the fragment: %s", pg.Location)
	}
	if !strings.Contains(pg.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("the answer (a code or an error in its URL) may be cached: Cache-Control %q", pg.Header.Get("Cache-Control"))
	}
	q := u.Query()
	for k, v := range q {
		if len(v) != 1 {
			t.Errorf("answer parameter %s repeated: %v", k, v)
		}
	}
	for _, k := range []string{"access_token", "id_token", "token_type"} {
		if q.Has(k) {
			t.Errorf("the code flow's answer carries %s in the URL (OpenID Connect Core 1.0 §3.1.2.5)", k)
		}
	}
	// RFC 9207 §2: iss where discovery promises it, and never another issuer.
	if iss := q.Get("iss"); iss != "" && iss != p.s.Issuer {
		t.Errorf("answer iss %q, want %q", iss, p.s.Issuer)
	} else if iss == "" && p.meta["authorization_response_iss_parameter_supported"] == true {
		t.Error("discovery promises iss in authorization responses, the answer has none")
	}
	return q
}

// code checks a successful authorization response (RFC 6749 §4.1.2: the
// code and the exact state) and returns the code.
func (p *provider) code(t *testing.T, a *authz, pg e2e.Page) string {
	t.Helper()
	q := p.redirected(t, pg)
	if e := q.Get("error"); e != "" {
		t.Fatalf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != a.state || (a.state == "" && q.Has("state")) {
		t.Errorf("state %q, want %q", q.Get("state"), a.state)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code in %s", pg.Location)
	}
	return code
}

// authError checks an error answer at the redirect URI (RFC 6749
// §4.1.2.1, OpenID Connect Core 1.0 §3.1.2.6): one of the codes wanted,
// a description, the state, no code.
func (p *provider) authError(t *testing.T, a *authz, pg e2e.Page, codes ...string) url.Values {
	t.Helper()
	q := p.redirected(t, pg)
	e := q.Get("error")
	if !slices.Contains(codes, e) {
		t.Errorf("error %q (%s), want one of %v", e, q.Get("error_description"), codes)
	}
	e2e.CheckErrorFields(t, "authorization error", e, q.Get("error_description"), q.Get("error_uri"))
	if q.Get("error_description") == "" {
		t.Errorf("error %s without a description", e)
	}
	if q.Get("state") != a.state {
		t.Errorf("error answer's state %q, want %q", q.Get("state"), a.state)
	}
	if q.Has("code") {
		t.Errorf("an error answer carries a code: %s", pg.Location)
	}
	return q
}
