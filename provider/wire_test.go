package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/storagetest"
)

// wireEnv is the provider's handler on a real database with a clock the
// test moves, a member, and clients: web and other (confidential, every
// grant), spa (public), backend (client credentials only).
type wireEnv struct {
	p      *Provider
	st     Store // the provider's store: bolt unless set replaced it
	h      http.Handler
	member storage.Member
	// partner signs the client assertions and request objects of client
	// partner (private_key_jwt, every grant, keys inline).
	partner partnerKey

	clock *storagetest.Clock
}

const (
	wireIssuer   = "http://127.0.0.1:1"
	wireRedirect = "https://rp.example/cb"
	// wireLoopback is a confidential client's http redirect URI on
	// loopback, which op allows for the code flow only.
	wireLoopback = "http://127.0.0.1:9/cb"
	wireSecret   = "wire-secret-0123456789"
	wireVerifier = "wire-verifier-0123456789-0123456789-0123456789"
)

func newWireEnv(t *testing.T) *wireEnv {
	t.Helper()
	return newWireEnvWith(t, nil)
}

// newWireEnvWith is newWireEnv with the provider's options changed by set.
func newWireEnvWith(t *testing.T, set func(*Options)) *wireEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wire.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := []byte("wire-hmac-key-0123456789abcdef-0123456789")
	all := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}
	scopes := []string{"openid", "profile", "email", ScopeMembership, "offline_access"}
	clients := []storage.Client{
		{ID: "web", SecretHash: HashSecret(key, wireSecret), RedirectURIs: []string{wireRedirect}, GrantTypes: all, Scopes: scopes},
		{ID: "other", SecretHash: HashSecret(key, wireSecret), RedirectURIs: []string{"https://other.example/cb"}, GrantTypes: all, Scopes: scopes},
		{ID: "loopback", SecretHash: HashSecret(key, wireSecret), RedirectURIs: []string{wireLoopback},
			GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}, Scopes: scopes},
		{ID: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"}, GrantTypes: []string{GrantAuthorizationCode}, Scopes: scopes},
		{ID: "backend", SecretHash: HashSecret(key, wireSecret), RedirectURIs: []string{"https://backend.example/cb"},
			GrantTypes: []string{GrantClientCredentials}, Scopes: []string{ScopeTelephone, "openid"}},
	}
	pk := newPartnerKey(t, "partner-key-1")
	clients = append(clients, storage.Client{ID: "partner", TokenEndpointAuthMethod: "private_key_jwt", JWKS: pk.jwks,
		RedirectURIs: []string{"https://partner.example/cb"}, GrantTypes: all, Scopes: scopes})
	e := &wireEnv{st: st, clock: storagetest.NewClock(time.Now().UTC()), partner: pk}
	o := Options{
		Issuer: wireIssuer, Store: st, Clients: clients, HMACKey: key, CryptoKey: [32]byte{7},
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: time.Hour, RefreshTokenTTL: 24 * time.Hour,
		CodeTTL: time.Minute, AuthRequestTTL: 30 * time.Minute, UILocales: []string{"ja", "en"},
		LoginURL:      func(id string) string { return "/login?authRequestID=" + id },
		EndSession:    func(http.ResponseWriter, *http.Request, LogoutRequest) {},
		LogoutRefused: func(w http.ResponseWriter, _ *http.Request, ref LogoutRefusal) { w.WriteHeader(ref.Status) },
		Now:           e.clock.Now, Logger: slog.New(slog.DiscardHandler),
	}
	if set != nil {
		set(&o)
	}
	e.st = o.Store
	e.p, err = New(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	e.h = e.p.Handler()
	e.member = storage.Member{ID: "m-wire", SecurityStamp: "stamp-1", Number: "1234567", FamilyName: "空野", GivenName: "花子",
		Email: "hanako@example.com", Status: storage.MemberActive, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.st.CreateMember(t.Context(), e.member); err != nil {
		t.Fatal(err)
	}
	return e
}

// serve runs req through the handler.
func (e *wireEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// post sends a form to path, authenticating as id with Basic when secret is set.
func (e *wireEnv) post(path string, form url.Values, id, secret string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, wireIssuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(id, secret)
	}
	return e.serve(req)
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%d %q: %v", rec.Code, rec.Body.String(), err)
	}
	return m
}

// login completes an authorization request for the member at clientID,
// as the login UI leaves it, and exchanges its code: access and refresh
// token.
func (e *wireEnv) login(t *testing.T, clientID, redirect string) (access, refresh string) {
	t.Helper()
	rec := e.exchange(e.code(t, clientID, redirect, e.member.SecurityStamp), clientID, redirect)
	if rec.Code != http.StatusOK {
		t.Fatalf("code exchange for %s: %d %s", clientID, rec.Code, rec.Body.String())
	}
	out := decode(t, rec)
	access, _ = out["access_token"].(string)
	refresh, _ = out["refresh_token"].(string)
	return access, refresh
}

// code is the code of a request the login UI answered for the member
// under the security stamp given, as the answer makes it: carrying its
// request (codeseal.go).
func (e *wireEnv) code(t *testing.T, clientID, redirect, stamp string) string {
	t.Helper()
	id := e.doneRequest(t, clientID, redirect, stamp)
	r, err := e.st.AuthRequestByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	s := e.p.newCodeSealer(context.Background(), r)
	code, err := s.Encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&opStorage{e.p}).SaveAuthCode(withCodeSealer(context.Background(), s), id, code); err != nil {
		t.Fatal(err)
	}
	return code
}

// legacyCode is code as the previous version made it: op's encryption of
// the request's id alone, exchanged from its row.
func (e *wireEnv) legacyCode(t *testing.T, clientID, redirect, stamp string) string {
	t.Helper()
	id := e.doneRequest(t, clientID, redirect, stamp)
	code, err := e.p.op.Crypto().Encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&opStorage{e.p}).SaveAuthCode(context.Background(), id, code); err != nil {
		t.Fatal(err)
	}
	return code
}

// doneRequest stores an authorization request of clientID that the member
// has finished (state "s"), as the login UI leaves it for the callback,
// and returns its id.
func (e *wireEnv) doneRequest(t *testing.T, clientID, redirect, stamp string) string {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	sum := sha256.Sum256([]byte(wireVerifier))
	id := timeID(now, 18)
	r := storage.AuthRequest{ID: id, ClientID: clientID, RedirectURI: redirect, ResponseType: "code",
		Scopes: []string{"openid", "profile", "email", "offline_access"}, State: "s", Nonce: "n",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256",
		MemberID: e.member.ID, Done: true, AuthTime: now, ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		SessionID: "s-wire", MemberStamp: stamp, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.st.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	return id
}

// exchange presents code at the token endpoint as clientID.
func (e *wireEnv) exchange(code, clientID, redirect string) *httptest.ResponseRecorder {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {wireVerifier}}
	return e.post("/oauth/token", form, clientID, wireSecret)
}

// clientToken is a client credentials access token of backend.
func (e *wireEnv) clientToken(t *testing.T, scope string) string {
	t.Helper()
	rec := e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, "backend", wireSecret)
	if rec.Code != http.StatusOK {
		t.Fatalf("client credentials: %d %s", rec.Code, rec.Body.String())
	}
	tok, _ := decode(t, rec)["access_token"].(string)
	return tok
}

// checkWireHeaders is the header rule of the OAuth endpoints' answers
// (wire.go): JSON, nothing sniffed or framed, no-store unless cacheable
// (discovery, keys) and successful, a challenge on every 401, a code and
// a description in every error.
func checkWireHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder, cacheable bool) {
	t.Helper()
	h := rec.Header()
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, h.Get("Content-Type"))
	}
	if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
		t.Errorf("%s: body is not JSON: %q", what, rec.Body.String())
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("%s: nosniff %q, X-Frame-Options %q, CSP %q", what,
			h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
	}
	noStore := h.Get("Cache-Control") == "no-store" && h.Get("Pragma") == "no-cache"
	if cacheable && rec.Code == http.StatusOK {
		noStore = strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=")
	}
	if !noStore {
		t.Errorf("%s (%d): Cache-Control %q, Pragma %q", what, rec.Code, h.Get("Cache-Control"), h.Get("Pragma"))
	}
	if rec.Code == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: 401 without WWW-Authenticate", what)
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if rec.Code >= 400 && (json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" || e.Description == "") {
		t.Errorf("%s: error answer without error and error_description: %s", what, rec.Body.String())
	}
}

// TestWireHeaders: every OAuth answer, op's and Tsubasa's, success and
// error, carries the headers of its class.
func TestWireHeaders(t *testing.T) {
	e := newWireEnv(t)
	access, refresh := e.login(t, "web", wireRedirect)
	_, otherRefresh := e.login(t, "other", "https://other.example/cb")
	get := func(path, bearer string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, wireIssuer+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		return e.serve(req)
	}
	type answer struct {
		what      string
		rec       *httptest.ResponseRecorder
		status    int
		cacheable bool
	}
	for _, a := range []answer{
		{"discovery", get("/.well-known/openid-configuration", ""), 200, true},
		{"keys", get("/keys", ""), 200, true},
		{"discovery by POST", e.post("/.well-known/openid-configuration", nil, "", ""), 405, true},
		{"refresh grant", e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret), 200, false},
		{"refresh grant, used token", e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret), 400, false},
		{"refresh grant, another client's token", e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {otherRefresh}}, "web", wireSecret), 400, false},
		{"refresh grant, unknown token", e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt1_nothing"}}, "web", wireSecret), 400, false},
		{"client credentials", e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"telephone"}}, "backend", wireSecret), 200, false},
		{"token, wrong secret", e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "backend", "wrong"), 401, false},
		{"token, unknown grant", e.post("/oauth/token", url.Values{"grant_type": {"password"}}, "web", wireSecret), 400, false},
		{"token, bad form", e.post("/oauth/token?%zz", nil, "web", wireSecret), 400, false},
		{"introspection", e.post("/oauth/introspect", url.Values{"token": {access}}, "web", wireSecret), 200, false},
		{"introspection, wrong secret", e.post("/oauth/introspect", url.Values{"token": {access}}, "web", "wrong"), 401, false},
		{"revocation, wrong secret", e.post("/revoke", url.Values{"token": {access}}, "web", "wrong"), 401, false},
		{"revocation", e.post("/revoke", url.Values{"token": {access}}, "web", wireSecret), 200, false},
		{"userinfo, revoked token", get("/userinfo", access), 401, false},
		{"userinfo, no token", get("/userinfo", ""), 401, false},
	} {
		if a.rec.Code != a.status {
			t.Errorf("%s: status %d, want %d: %s", a.what, a.rec.Code, a.status, a.rec.Body.String())
		}
		checkWireHeaders(t, a.what, a.rec, a.cacheable)
	}
	// end_session answers with the login UI's pages (the stub above writes
	// the refusal's status only), not JSON; the wire layer still forbids
	// storing and framing them.
	rec := get("/end_session?id_token_hint=x.y.z", "")
	h := rec.Header()
	if rec.Code != http.StatusBadRequest || h.Get("Cache-Control") != "no-store" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("end_session, bad hint: status %d, Cache-Control %q, CSP %q, X-Frame-Options %q",
			rec.Code, h.Get("Cache-Control"), h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"))
	}
}

// TestClientChallenge: a 401 at an endpoint that authenticates clients
// names the Basic scheme, whichever way the client authenticated (RFC 6749
// §5.2, RFC 9110 §15.5.2).
func TestClientChallenge(t *testing.T) {
	e := newWireEnv(t)
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke"} {
		form := url.Values{"grant_type": {"client_credentials"}, "token": {"x"}}
		basic := e.post(path, form, "backend", "wrong")
		form.Set("client_id", "backend")
		form.Set("client_secret", "wrong")
		post := e.post(path, form, "", "")
		for what, rec := range map[string]*httptest.ResponseRecorder{"basic": basic, "post": post} {
			if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != basicChallenge {
				t.Errorf("%s, wrong secret by %s: %d, WWW-Authenticate %q", path, what, rec.Code, rec.Header().Get("WWW-Authenticate"))
			}
			if got := decode(t, rec)["error"]; got != "invalid_client" {
				t.Errorf("%s, wrong secret by %s: error %v", path, what, got)
			}
		}
	}
}

// TestPostBodyOnly: the endpoints that take credentials and tokens take
// them from a POST body only (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1),
// each once (a target's body follows a space); a CORS preflight still
// gets its answer.
func TestPostBodyOnly(t *testing.T) {
	e := newWireEnv(t)
	access, _ := e.login(t, "web", wireRedirect)
	cc := "grant_type=client_credentials&client_id=backend&client_secret=" + wireSecret
	for what, tt := range map[string]struct {
		method, target string
		status         int
	}{
		"token by GET":              {http.MethodGet, "/oauth/token?" + cc, 405},
		"token, secret in the URL":  {http.MethodPost, "/oauth/token?" + cc, 400},
		"revoke by GET":             {http.MethodGet, "/revoke?client_id=spa&token=" + url.QueryEscape(access), 405},
		"revoke, token in the URL":  {http.MethodPost, "/revoke?client_id=spa&token=" + url.QueryEscape(access), 400},
		"introspect by GET":         {http.MethodGet, "/oauth/introspect?token=" + url.QueryEscape(access), 405},
		"introspect, token in URL":  {http.MethodPost, "/oauth/introspect?token=" + url.QueryEscape(access), 400},
		"introspect, secret in URL": {http.MethodPost, "/oauth/introspect?client_id=web&client_secret=" + wireSecret, 400},
		// RFC 6749 §3.2: no parameter twice (op would take the first).
		"token, grant twice":       {http.MethodPost, "/oauth/token grant_type=refresh_token&grant_type=client_credentials&" + cc[len("grant_type=client_credentials&"):], 400},
		"revoke, token twice":      {http.MethodPost, "/revoke token=a&token=b&client_id=spa", 400},
		"introspect, token twice":  {http.MethodPost, "/oauth/introspect token=a&token=b&client_id=web&client_secret=" + wireSecret, 400},
		"introspect, secret twice": {http.MethodPost, "/oauth/introspect token=a&client_id=web&client_secret=x&client_secret=" + wireSecret, 400},
	} {
		target, body, _ := strings.Cut(tt.target, " ")
		req := httptest.NewRequest(tt.method, wireIssuer+target, strings.NewReader(body))
		if tt.method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := e.serve(req)
		checkWireHeaders(t, what, rec, false)
		if rec.Code != tt.status || decode(t, rec)["error"] != "invalid_request" {
			t.Errorf("%s: %d %s, want %d invalid_request", what, rec.Code, rec.Body.String(), tt.status)
		}
		if tt.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: Allow %q", what, rec.Header().Get("Allow"))
		}
	}
	if rec := e.serve(userinfoRequest(http.MethodGet, "Bearer "+access, "", "")); rec.Code != http.StatusOK {
		t.Errorf("the token still works: %d %s", rec.Code, rec.Body.String())
	}
	for _, path := range []string{"/oauth/token", "/revoke", "/oauth/introspect", "/userinfo"} {
		req := httptest.NewRequest(http.MethodOptions, wireIssuer+path, nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		if rec := e.serve(req); rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("CORS preflight to %s: %d %v", path, rec.Code, rec.Header())
		}
	}
}

// TestAuthorizeHasNoCORS: /authorize is a navigation; a script on another
// site gets no CORS permission to read its answers, with or without
// credentials, and no preflight is granted.
func TestAuthorizeHasNoCORS(t *testing.T) {
	e := newWireEnv(t)
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		req := httptest.NewRequest(method, wireIssuer+"/authorize?client_id=web&response_type=code&redirect_uri="+url.QueryEscape(wireRedirect), nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", http.MethodGet)
		rec := e.serve(req)
		if h := rec.Header(); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s /authorize from another origin: Allow-Origin %q, Allow-Credentials %q", method,
				h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
		}
	}
}
