package attack

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on partner-grade OAuth: pushed authorization requests (RFC
// 9126), client assertions (private_key_jwt, RFC 7523), signed request
// objects (RFC 9101), and a jwks_uri aimed inside the provider's network.
// Each fails on a server without the control it names: the claim bound to
// its client and used once, the assertion's jti store and its checks, the
// request object's signature, outbound's address check.

// partnerEnv is a server with two partners that authenticate by their
// keys, inline: "miles" (which pushes its requests) and "hotel".
type partnerEnv struct {
	s           *e2e.Server
	miles       e2e.PartnerKey
	hotel       e2e.PartnerKey
	redirectURI string
}

func newPartnerEnv(t *testing.T, extra string) *partnerEnv {
	t.Helper()
	s := e2e.StartWithMember(t, e2e.Options{Extra: extra})
	e := &partnerEnv{s: s, miles: e2e.NewPartnerKey(t, "miles-1"), hotel: e2e.NewPartnerKey(t, "hotel-1"),
		redirectURI: s.Issuer + "/rp/callback"}
	for id, k := range map[string]e2e.PartnerKey{"miles": e.miles, "hotel": e.hotel} {
		s.CLI(t, false, "client", "add", "--id", id, "--redirect-uri", e.redirectURI,
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks", k.JWKS)
	}
	return e
}

// authorize is /authorize's own answer to a browser bringing q.
func (e *partnerEnv) authorize(t *testing.T, b *e2e.Browser, q url.Values) e2e.Page {
	t.Helper()
	return b.Get(t, e.s.Issuer+"/authorize?"+q.Encode())
}

// isLoginPage reports whether p is the login form of a request.
func isLoginPage(p e2e.Page) bool {
	return p.Status == http.StatusOK && strings.Contains(p.Body, `name="authRequestID"`)
}

// isStartAgainPage reports whether p is the error page that sends the
// member back to the app, in the default language, and redirects nowhere.
func isStartAgainPage(p e2e.Page) bool {
	return p.Status == http.StatusBadRequest && p.Location == "" && strings.Contains(p.Body, "有効期限切れか無効です")
}

// TestAttackStolenRequestURIUsedByAnotherClient: hotel learns the
// request_uri miles pushed and presents it as its own. It gets the "start
// again" page, no login; miles's request stays usable by miles.
func TestAttackStolenRequestURIUsedByAnotherClient(t *testing.T) {
	e := newPartnerEnv(t, "")
	uri := e.miles.Push(t, e.s, "miles", e2e.AuthParams(e.s, "miles", e2e.NewFlow(), "openid"))
	for _, stealer := range []string{"hotel", "web", ""} {
		q := url.Values{"client_id": {stealer}, "request_uri": {uri}}
		if p := e.authorize(t, e2e.NewBrowser(t, e.s), q); !isStartAgainPage(p) {
			t.Errorf("client %q with miles's request_uri: %d %q, want the start-again page", stealer, p.Status, p.Location)
		}
	}
	if p := e.authorize(t, e2e.NewBrowser(t, e.s), url.Values{"client_id": {"miles"}, "request_uri": {uri}}); !isLoginPage(p) {
		t.Errorf("miles after the theft attempts: %d %q, want its login page", p.Status, p.Location)
	}
}

// TestAttackReusedRequestURI: a request_uri replayed (from the browser's
// history, a log, a second tab) starts nothing: single use.
func TestAttackReusedRequestURI(t *testing.T) {
	e := newPartnerEnv(t, "")
	uri := e.miles.Push(t, e.s, "miles", e2e.AuthParams(e.s, "miles", e2e.NewFlow(), "openid"))
	q := url.Values{"client_id": {"miles"}, "request_uri": {uri}}
	if p := e.authorize(t, e2e.NewBrowser(t, e.s), q); !isLoginPage(p) {
		t.Fatalf("first use: %d %q", p.Status, p.Location)
	}
	for range 3 {
		if p := e.authorize(t, e2e.NewBrowser(t, e.s), q); !isStartAgainPage(p) {
			t.Errorf("replay: %d %q, want the start-again page", p.Status, p.Location)
		}
	}
}

// TestAttackExpiredRequestURI: a request_uri past par.request_uri_ttl (here
// the shortest allowed, 5 s) starts nothing.
func TestAttackExpiredRequestURI(t *testing.T) {
	e := newPartnerEnv(t, "par:\n  request_uri_ttl: 5s\n")
	uri := e.miles.Push(t, e.s, "miles", e2e.AuthParams(e.s, "miles", e2e.NewFlow(), "openid"))
	time.Sleep(5500 * time.Millisecond) // past the lifetime: the wait is the attack
	if p := e.authorize(t, e2e.NewBrowser(t, e.s), url.Values{"client_id": {"miles"}, "request_uri": {uri}}); !isStartAgainPage(p) {
		t.Errorf("expired request_uri: %d %q, want the start-again page", p.Status, p.Location)
	}
}

// TestAttackReplayedClientAssertion: an assertion captured on its way to
// the token endpoint (a proxy log, a compromised TLS terminator) is
// replayed there and at the other endpoints: it authenticated once.
func TestAttackReplayedClientAssertion(t *testing.T) {
	e := newPartnerEnv(t, "")
	a := e.miles.Assertion(t, e.s, "miles")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}
	first := e2e.PostForm(t, e.s, "/oauth/token", e2e.AssertionForm(form, a))
	if first.Status != http.StatusBadRequest || first.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("first use (authenticated, unknown refresh token): %d %s", first.Status, first.Body)
	}
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke", "/oauth/par"} {
		w := e2e.PostForm(t, e.s, path, e2e.AssertionForm(url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {"unknown"}, "token": {"x"}}, a))
		e2e.CheckWire(t, "replay at "+path, w, false)
		if w.Status != http.StatusUnauthorized || w.JSON(t)["error"] != "invalid_client" {
			t.Errorf("the assertion replayed at %s: %d %s", path, w.Status, w.Body)
		}
	}
}

// TestAttackForgedClientAssertions: assertions an attacker can make
// without the client's key, or with it but for another server or for too
// long, authenticate nobody.
func TestAttackForgedClientAssertions(t *testing.T) {
	e := newPartnerEnv(t, "")
	s := e.s
	claims := func(kv ...any) map[string]any {
		c := e2e.AssertionClaims("miles", s.Issuer)
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	b64 := base64.RawURLEncoding.EncodeToString
	payload := func() string { p, _ := json.Marshal(claims()); return b64(p) }
	der, err := x509.MarshalPKIXPublicKey(&e.miles.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hsHeader := b64([]byte(`{"alg":"HS256","typ":"JWT","kid":"miles-1"}`))
	hsPayload := payload()
	mac := hmac.New(sha256.New, der)
	mac.Write([]byte(hsHeader + "." + hsPayload))
	now := time.Now()
	for name, assertion := range map[string]string{
		"aud the token endpoint":          e.miles.Sign(t, claims("aud", s.Issuer+"/oauth/token"), ""),
		"aud another server and ours":     e.miles.Sign(t, claims("aud", []string{"https://other.example", s.Issuer}), ""),
		"aud another server":              e.miles.Sign(t, claims("aud", "https://other.example"), ""),
		"valid for a day":                 e.miles.Sign(t, claims("exp", now.Add(24*time.Hour).Unix()), ""),
		"expired":                         e.miles.Sign(t, claims("exp", now.Add(-time.Hour).Unix()), ""),
		"alg none":                        b64([]byte(`{"alg":"none"}`)) + "." + payload() + ".",
		"HS256 keyed with the public key": hsHeader + "." + hsPayload + "." + b64(mac.Sum(nil)),
		"signed by another client's key":  e.hotel.Sign(t, claims(), ""),
		"another client's, as miles":      e.hotel.Sign(t, e2e.AssertionClaims("hotel", s.Issuer), "") + "x",
	} {
		w := e2e.PostForm(t, s, "/oauth/token", e2e.AssertionForm(url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {"unknown"}, "client_id": {"miles"}}, assertion))
		e2e.CheckWire(t, name, w, false)
		if body := w.JSON(t); w.Status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %s, want 401 invalid_client", name, w.Status, w.Body)
		}
	}
}

// requestObject is a request object of clientID for the environment's
// server, signed with k, carrying f's request.
func (e *partnerEnv) requestObject(t *testing.T, k e2e.PartnerKey, clientID string, f e2e.Flow) string {
	t.Helper()
	c := e2e.AssertionClaims(clientID, e.s.Issuer)
	delete(c, "sub")
	delete(c, "jti")
	for key, v := range e2e.AuthParams(e.s, clientID, f, "openid") {
		c[key] = v[0]
	}
	return k.Sign(t, c, "oauth-authz-req+jwt")
}

// TestAttackUnsignedRequestObject: an attacker who controls the
// authorization URL (a phishing link) rewrites a partner's request in an
// unsigned object (alg none) or edits a signed one. Neither starts a
// login; the error goes to the partner's registered redirect URI.
func TestAttackUnsignedRequestObject(t *testing.T) {
	e := newPartnerEnv(t, "")
	f := e2e.NewFlow()
	parts := strings.Split(e.requestObject(t, e.miles, "miles", f), ".")
	c := e2e.AssertionClaims("miles", e.s.Issuer)
	for k, v := range e2e.AuthParams(e.s, "miles", f, "openid profile email") {
		c[k] = v[0]
	}
	edited, _ := json.Marshal(c)
	b64 := base64.RawURLEncoding.EncodeToString
	for name, obj := range map[string]string{
		"alg none":           b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"payload edited":     parts[0] + "." + b64(edited) + "." + parts[2],
		"signature stripped": parts[0] + "." + parts[1] + ".",
		"typ none, alg none": b64([]byte(`{"alg":"none","typ":"oauth-authz-req+jwt"}`)) + "." + b64(edited) + ".",
	} {
		q := url.Values{"client_id": {"miles"}, "request": {obj}, "redirect_uri": {e.redirectURI}, "state": {"attacker"}}
		p := e.authorize(t, e2e.NewBrowser(t, e.s), q)
		if isLoginPage(p) {
			t.Errorf("%s: a login page", name)
			continue
		}
		cb := e2e.Callback(t, p)
		if cb.Query().Get("error") != "invalid_request_object" || cb.Query().Get("code") != "" {
			t.Errorf("%s: %s, want invalid_request_object", name, cb)
		}
	}
}

// TestAttackRequestObjectSignedByAnotherClientsKey: hotel signs a request
// naming miles, to have members log in to miles under hotel's terms (its
// redirect URI, its nonce). miles's keys do not verify it.
func TestAttackRequestObjectSignedByAnotherClientsKey(t *testing.T) {
	e := newPartnerEnv(t, "")
	obj := e.requestObject(t, e.hotel, "miles", e2e.NewFlow())
	q := url.Values{"client_id": {"miles"}, "request": {obj}, "redirect_uri": {e.redirectURI}}
	p := e.authorize(t, e2e.NewBrowser(t, e.s), q)
	if isLoginPage(p) {
		t.Fatal("a request object signed by another client's key started a login")
	}
	if cb := e2e.Callback(t, p); cb.Query().Get("error") != "invalid_request_object" {
		t.Errorf("answer %s, want invalid_request_object", cb)
	}
	// Pushed by hotel with miles's client_id in it: hotel authenticated,
	// the request is hotel's, not miles's.
	w := e2e.PostForm(t, e.s, "/oauth/par", e2e.AssertionForm(url.Values{"request": {obj}}, e.hotel.Assertion(t, e.s, "hotel")))
	if w.Status != http.StatusBadRequest || w.JSON(t)["request_uri"] != nil {
		t.Errorf("hotel pushing miles's object: %d %s", w.Status, w.Body)
	}
}

// TestAttackJWKSURIToPrivateAddress: whoever registers a client (an
// operator tricked, a compromised admin account) points its jwks_uri into
// the provider's own network: loopback (by address and by name), the cloud
// metadata address. With outbound.allow_private_networks off, nothing is
// fetched from there and no assertion of that client authenticates.
func TestAttackJWKSURIToPrivateAddress(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	key := e2e.NewPartnerKey(t, "inside-1")
	inside := e2e.ServeJWKS(t, key.JWKS)
	port := inside.URL[strings.LastIndex(inside.URL, ":")+1:]
	for id, uri := range map[string]string{
		"loopback":  inside.URL,
		"localhost": "http://localhost:" + port,
		"metadata":  "https://169.254.169.254/latest/meta-data/jwks",
	} {
		s.CLI(t, false, "client", "add", "--id", id, "--grant-type", "client_credentials", "--scope", "openid",
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", uri)
		w := e2e.PostForm(t, s, "/oauth/token", e2e.AssertionForm(url.Values{"grant_type": {"client_credentials"}}, key.Assertion(t, s, id)))
		if w.Status != http.StatusUnauthorized {
			t.Errorf("%s (%s): %d %s, want 401", id, uri, w.Status, w.Body)
		}
	}
	if n := inside.Fetches.Load(); n != 0 {
		t.Errorf("the server inside was reached %d times", n)
	}
	if !strings.Contains(s.Output(), "special-use") {
		t.Error("the log does not say why the keys were not fetched")
	}
}
