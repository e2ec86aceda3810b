package attack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on what the provider says it supports and on the revocation
// endpoint (security review items 9 and 10).

const (
	webSecret = "web-secret-0123456789"
	esSecret  = "es-secret-0123456789"
)

// discovery fetches the provider's metadata.
func discovery(t *testing.T, s *e2e.Server) map[string]any {
	t.Helper()
	resp, err := http.Get(s.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		t.Fatal(err)
	}
	return meta
}

func advertised(meta map[string]any, key string) []string {
	var out []string
	list, _ := meta[key].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// TestAttackImplicitResponseTypes: a relying party (or an attacker with a
// registered client's id and redirect URI) asks for tokens straight from
// the authorization endpoint, where they would travel in the browser's
// URL. Discovery lists none of these response types; each request is
// answered at once with a redirect to the registered redirect URI carrying
// error=unsupported_response_type and the state (RFC 6749 §4.1.2.1), in
// the fragment as these response types expect, and carrying no token, no
// code, and no login page in between.
func TestAttackImplicitResponseTypes(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	meta := discovery(t, s)
	if got := advertised(meta, "response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported = %v, want [code]", got)
	}
	redirect := s.Issuer + "/rp/callback"
	for _, rt := range []string{"id_token token", "id_token", "token", "code id_token", "code token", "code id_token token"} {
		t.Run(rt, func(t *testing.T) {
			// A browser that already has an SSO session: if the request were
			// answered like a code request, tokens would follow at once.
			b := e2e.NewBrowser(t, s)
			rp := e2e.NewRP(t, s, "web", webSecret)
			e2e.LoginRP(t, rp, b)
			q := url.Values{"response_type": {rt}, "client_id": {"web"}, "redirect_uri": {redirect},
				"scope": {"openid profile"}, "state": {"st-" + rt}, "nonce": {"n"}}
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var req *http.Request
				if method == http.MethodGet {
					req, _ = http.NewRequestWithContext(t.Context(), method, s.Issuer+"/authorize?"+q.Encode(), nil)
				} else {
					req = e2e.NewFormRequest(t.Context(), s.Issuer+"/authorize", q.Encode())
				}
				resp, err := b.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				p := e2e.PageOf(resp)
				resp.Body.Close()
				if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, redirect+"#") {
					t.Fatalf("%s response_type=%q: status %d, Location %q; want a redirect to %s with the error in the fragment",
						method, rt, p.Status, p.Location, redirect)
				}
				frag, err := url.ParseQuery(strings.TrimPrefix(p.Location, redirect+"#"))
				if err != nil {
					t.Fatal(err)
				}
				if frag.Get("error") != "unsupported_response_type" || frag.Get("error_description") == "" || frag.Get("state") != q.Get("state") {
					t.Errorf("%s response_type=%q: fragment %v, want error=unsupported_response_type with a description and the state", method, rt, frag)
				}
				u, _ := url.Parse(p.Location)
				for _, leak := range []string{"access_token", "id_token", "code"} {
					if frag.Has(leak) || u.Query().Has(leak) {
						t.Errorf("%s response_type=%q: %s in the redirect %q", method, rt, leak, p.Location)
					}
				}
			}
		})
	}
}

// TestAttackUnadvertisedGrants: a client tries the grants op knows but
// Tsubasa does not offer: the JWT bearer grant (RFC 7523) with an
// assertion it signed itself, the implicit grant and the token-exchange
// grant at the token endpoint. Each is refused with unsupported_grant_type,
// none is advertised, and no token is issued. The device grant is offered
// (RFC 8628), to the clients that hold it only: the web client, which
// does not, is unauthorized_client at both of its endpoints.
func TestAttackUnadvertisedGrants(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	meta := discovery(t, s)
	grants := advertised(meta, "grant_types_supported")
	if want := []string{"authorization_code", "refresh_token", "client_credentials", e2e.DeviceGrantType}; !slices.Equal(grants, want) {
		t.Errorf("grant_types_supported = %v, want %v", grants, want)
	}

	assertion := selfSignedAssertion(t, s.Issuer)
	for grant, form := range map[string]url.Values{
		"jwt-bearer":     {"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}, "scope": {"openid"}},
		"implicit":       {"grant_type": {"implicit"}, "scope": {"openid"}},
		"token-exchange": {"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {assertion}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}},
		"password":       {"grant_type": {"password"}, "username": {e2e.MemberNumber}, "password": {e2e.MemberPass}},
	} {
		t.Run(grant, func(t *testing.T) {
			if slices.Contains(grants, form.Get("grant_type")) {
				t.Errorf("%s is advertised", form.Get("grant_type"))
			}
			for _, auth := range []string{"basic", "none"} {
				var resp *http.Response
				if auth == "basic" {
					resp = e2e.ClientPost(t, s.Issuer+"/oauth/token", "web", webSecret, form)
				} else {
					f := url.Values{"client_id": {"spa"}}
					for k, v := range form {
						f[k] = v
					}
					var err error
					resp, err = http.DefaultClient.Do(e2e.NewFormRequest(t.Context(), s.Issuer+"/oauth/token", f.Encode()))
					if err != nil {
						t.Fatal(err)
					}
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var answer map[string]any
				_ = json.Unmarshal(body, &answer)
				if resp.StatusCode != http.StatusBadRequest || answer["error"] != "unsupported_grant_type" {
					t.Errorf("%s (%s client authentication): %d %s, want 400 unsupported_grant_type", grant, auth, resp.StatusCode, body)
				}
				if _, ok := answer["access_token"]; ok {
					t.Errorf("%s: an access token was issued: %s", grant, body)
				}
			}
		})
	}

	for path, form := range map[string]url.Values{
		"/device_authorization": {"scope": {"openid"}},
		"/oauth/token":          {"grant_type": {e2e.DeviceGrantType}, "device_code": {"x"}},
	} {
		resp := e2e.ClientPost(t, s.Issuer+path, "web", webSecret, form)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "unauthorized_client") || strings.Contains(string(body), "device_code\"") {
			t.Errorf("%s by a client without the device grant: %d %s, want unauthorized_client", path, resp.StatusCode, body)
		}
	}
}

// selfSignedAssertion is a JWT bearer assertion an attacker signs with a
// key of its own, claiming to be the member at the web client.
func selfSignedAssertion(t *testing.T, issuer string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "attacker"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: "web", Subject: "web", Audience: jwt.Audience{issuer}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestAttackClientAssertions: an attacker authenticates as a client that
// uses a secret with a JWT assertion (private_key_jwt, RFC 7523 §2.2) it
// signed with a key of its own, well formed in every other way, at every
// endpoint that authenticates clients. Each answer is 401 invalid_client
// with a Basic challenge: never a token and never a server error (op
// answered an assertion at the refresh grant with a 500). The assertion
// attacks on clients that do use private_key_jwt are in partner_test.go.
func TestAttackClientAssertions(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	tok := e2e.LoginRP(t, e2e.NewRP(t, s, "web", webSecret), e2e.NewBrowser(t, s))
	assertion := url.Values{"client_id": {"web"}, "client_assertion": {selfSignedAssertion(t, s.Issuer)},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	for what, tt := range map[string]struct {
		path string
		form url.Values
	}{
		"refresh grant":      {"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}},
		"client credentials": {"/oauth/token", url.Values{"grant_type": {"client_credentials"}}},
		"revocation":         {"/revoke", url.Values{"token": {tok.RefreshToken}}},
		"introspection":      {"/oauth/introspect", url.Values{"token": {tok.AccessToken}}},
	} {
		form := url.Values{}
		for _, v := range []url.Values{tt.form, assertion} {
			for k, vs := range v {
				form[k] = vs
			}
		}
		w := e2e.WireDo(t, e2e.NewFormRequest(t.Context(), s.Issuer+tt.path, form.Encode()))
		e2e.CheckWire(t, what, w, false)
		if body := w.JSON(t); w.Status != http.StatusUnauthorized || body["error"] != "invalid_client" || body["access_token"] != nil {
			t.Errorf("%s with a client assertion: %d %s, want 401 invalid_client", what, w.Status, w.Body)
		}
	}
	// Nothing was revoked or rotated: the refresh token still works.
	if _, err := e2e.Refresh(t, e2e.NewRP(t, s, "web", webSecret), tok.RefreshToken); err != nil {
		t.Errorf("the refresh token after the attempts: %v", err)
	}
}

// TestAttackCrossClientRevocation: client B, authenticated as itself, asks
// the revocation endpoint to revoke client A's refresh and access tokens,
// to log A's member out of A (or to learn, from the answer, that the
// strings are live tokens). The answer is 200 with nothing revoked, the
// same answer an unknown token gets (RFC 7009 §2.2), and never a server
// error; A's tokens keep working.
func TestAttackCrossClientRevocation(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	a := e2e.NewRP(t, s, "web", webSecret)
	tok := e2e.LoginRP(t, a, e2e.NewBrowser(t, s))
	if tok.RefreshToken == "" {
		t.Fatal("client A got no refresh token")
	}
	revoke := s.Issuer + "/revoke"
	for name, form := range map[string]url.Values{
		"refresh token":                    {"token": {tok.RefreshToken}},
		"refresh token, hinted":            {"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}},
		"refresh token, hinted as access":  {"token": {tok.RefreshToken}, "token_type_hint": {"access_token"}},
		"access token":                     {"token": {tok.AccessToken}},
		"access token, hinted":             {"token": {tok.AccessToken}, "token_type_hint": {"access_token"}},
		"access token, hinted as refresh":  {"token": {tok.AccessToken}, "token_type_hint": {"refresh_token"}},
		"unknown token (the reference)":    {"token": {"rt1_0000000000000000not-a-token"}},
		"unknown access token (reference)": {"token": {"not-an-access-token"}, "token_type_hint": {"access_token"}},
	} {
		for _, b := range []struct{ id, secret string }{{"web-es256", esSecret}, {"spa", ""}} {
			var resp *http.Response
			if b.secret != "" {
				resp = e2e.ClientPost(t, revoke, b.id, b.secret, form)
			} else {
				f := url.Values{"client_id": {b.id}}
				for k, v := range form {
					f[k] = v
				}
				var err error
				if resp, err = http.DefaultClient.Do(e2e.NewFormRequest(t.Context(), revoke, f.Encode())); err != nil {
					t.Fatal(err)
				}
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s revoking A's %s: %d %s, want 200", b.id, name, resp.StatusCode, body)
			}
		}
	}
	// A's tokens were left alone: the access token answers at userinfo and
	// the refresh token still rotates.
	if _, err := a.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("A's access token after B's revocation attempts: %v", err)
	}
	if _, err := e2e.Refresh(t, a, tok.RefreshToken); err != nil {
		t.Errorf("A's refresh token after B's revocation attempts: %v", err)
	}
}

// TestAttackClientProbingAtIntrospection: an attacker probes the
// introspection endpoint with client ids and a wrong secret to learn which
// clients exist. The answer to an unknown client and to a known client
// with a wrong secret is the same 401 invalid_client in JSON, with a Basic
// challenge, and names no internals.
func TestAttackClientProbingAtIntrospection(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	answer := func(id string) (int, http.Header, string) {
		resp := e2e.ClientPost(t, s.Issuer+"/oauth/introspect", id, "wrong-secret-0123456789", url.Values{"token": {"x"}})
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	knownStatus, knownHeader, known := answer("web")
	unknownStatus, _, unknown := answer("no-such-client")
	if known != unknown || knownStatus != unknownStatus {
		t.Errorf("a wrong secret and an unknown client are told apart:\n known:   %d %q\n unknown: %d %q", knownStatus, known, unknownStatus, unknown)
	}
	if knownStatus != http.StatusUnauthorized || !strings.HasPrefix(knownHeader.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("wrong client secret: %d, WWW-Authenticate %q; want 401 with a Basic challenge", knownStatus, knownHeader.Get("WWW-Authenticate"))
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(known), &e); err != nil || e.Error != "invalid_client" {
		t.Errorf("wrong client secret: body %q, want JSON with error invalid_client", known)
	}
	for _, internal := range []string{"Parent", "ErrorType", "storage", "not found"} {
		if strings.Contains(known+unknown, internal) {
			t.Errorf("the answer names internals (%q): %q / %q", internal, known, unknown)
		}
	}
}
