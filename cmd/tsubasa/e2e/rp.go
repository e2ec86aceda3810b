package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// RP is a relying party as a real app writes one: go-oidc for discovery and
// verification, x/oauth2 for the code flow.
type RP struct {
	Provider *oidc.Provider
	OAuth    oauth2.Config
	Verifier *oidc.IDTokenVerifier
}

func NewRP(t *testing.T, s *Server, clientID, secret string, scopes ...string) *RP {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), s.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email", "membership"}
	}
	return &RP{
		Provider: p,
		OAuth: oauth2.Config{
			ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
			RedirectURL: s.Issuer + "/rp/callback", Scopes: scopes,
		},
		Verifier: p.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256", "ES256"}}),
	}
}

// Browser is a cookie-keeping HTTP client that stops at the relying party's
// redirect URI instead of following it.
type Browser struct {
	*http.Client
	stopAt string
}

func NewBrowser(t *testing.T, s *Server) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{stopAt: s.Issuer + "/rp/"}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.stopAt) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// Page is a fetched response with its body read.
type Page struct {
	Status   int
	URL      *url.URL
	Location string
	Body     string
	Header   http.Header
}

// Send sends req as it is, with the browser's cookies and none of the
// headers Post adds, and reads the answer: for requests a test shapes
// itself (an attacker's cross-site post, spoofed headers, a JSON call).
func (b *Browser) Send(t *testing.T, req *http.Request) Page {
	t.Helper()
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	return PageOf(resp)
}

// do is Send, under the name the package's own tests (and branches in
// flight) call it by.
func (b *Browser) do(t *testing.T, req *http.Request) Page {
	t.Helper()
	return b.Send(t, req)
}

// PageOf reads a response into a Page; the caller closes the body.
func PageOf(resp *http.Response) Page {
	body, _ := io.ReadAll(resp.Body)
	return Page{Status: resp.StatusCode, URL: resp.Request.URL, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}
}

// NewFormRequest is a POST of an urlencoded form body, headers still to add.
func NewFormRequest(ctx context.Context, target, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func (b *Browser) Get(t *testing.T, u string) Page {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	return b.do(t, req)
}

// Post submits a form as a same-origin browser would (Origin header set).
func (b *Browser) Post(t *testing.T, pageURL *url.URL, action string, form url.Values) Page {
	t.Helper()
	target := pageURL.ResolveReference(&url.URL{Path: action})
	req := NewFormRequest(t.Context(), target.String(), form.Encode())
	req.Header.Set("Origin", pageURL.Scheme+"://"+pageURL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(t, req)
}

var hiddenRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// AuthRequestID extracts the hidden request id from a login page.
func (p Page) AuthRequestID(t *testing.T) string {
	t.Helper()
	m := hiddenRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no authRequestID on page %s (status %d):\n%s", p.URL, p.Status, p.Body)
	}
	return m[1]
}

// Flow is one authorization request's secrets on the RP side.
type Flow struct {
	State, Nonce, Verifier string
}

func NewFlow() Flow {
	return Flow{State: oauth2.GenerateVerifier()[:20], Nonce: oauth2.GenerateVerifier()[:20], Verifier: oauth2.GenerateVerifier()}
}

// AuthURL is the authorization URL with PKCE S256, nonce and extra params.
func (rp *RP) AuthURL(f Flow, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}, extra...)
	return rp.OAuth.AuthCodeURL(f.State, opts...)
}

// Login drives a whole password login and returns the callback URL the RP receives.
func Login(t *testing.T, b *Browser, authURL, number, password string) *url.URL {
	t.Helper()
	p := b.Get(t, authURL)
	if p.Status != http.StatusOK {
		t.Fatalf("login page: status %d\n%s", p.Status, p.Body)
	}
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {password}})
	return Callback(t, res)
}

// Callback checks a response is the redirect to the RP and parses it.
func Callback(t *testing.T, p Page) *url.URL {
	t.Helper()
	if p.Location == "" {
		t.Fatalf("expected a redirect to the relying party, got status %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Exchange trades the code in a callback for tokens and verifies the ID token.
func (rp *RP) Exchange(ctx context.Context, f Flow, cb *url.URL) (*oauth2.Token, *oidc.IDToken, error) {
	q := cb.Query()
	if e := q.Get("error"); e != "" {
		return nil, nil, fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != f.State {
		return nil, nil, errors.New("state mismatch")
	}
	tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(ctx, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("verify id token: %w", err)
	}
	if idt.Nonce != f.Nonce {
		return nil, nil, errors.New("nonce mismatch")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, nil, fmt.Errorf("at_hash: %w", err)
		}
	}
	return tok, idt, nil
}

// LoginRP logs the test member in through rp in browser b and returns the
// tokens of the verified exchange.
func LoginRP(t *testing.T, rp *RP, b *Browser, extra ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	f := NewFlow()
	tok, _ := MustExchange(t, rp, f, Login(t, b, rp.AuthURL(f, extra...), MemberNumber, MemberPass))
	return tok
}

// MustExchange is rp.Exchange for a callback that must carry a code.
func MustExchange(t *testing.T, rp *RP, f Flow, cb *url.URL) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	tok, idt, err := rp.Exchange(t.Context(), f, cb)
	if err != nil {
		t.Fatalf("%s: %v", rp.OAuth.ClientID, err)
	}
	return tok, idt
}

// Refresh redeems refresh token rt at rp's token endpoint.
func Refresh(t *testing.T, rp *RP, rt string) (*oauth2.Token, error) {
	return rp.OAuth.TokenSource(t.Context(), &oauth2.Token{RefreshToken: rt}).Token()
}

// IsOAuthError reports whether err is the token endpoint's answer with
// error code code.
func IsOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

// ClientPost posts form to an endpoint that authenticates the client with
// HTTP Basic (introspection, revocation); the caller closes the body.
func ClientPost(t *testing.T, endpoint, id, secret string, form url.Values) *http.Response {
	t.Helper()
	req := NewFormRequest(t.Context(), endpoint, form.Encode())
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Introspect reports whether the introspection endpoint calls token active
// for client id.
func Introspect(t *testing.T, endpoint, id, secret, token string) bool {
	t.Helper()
	resp := ClientPost(t, endpoint, id, secret, url.Values{"token": {token}})
	defer resp.Body.Close()
	var r struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("introspection answer: %v", err)
	}
	return r.Active
}
