package provider

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// userinfoRequest is a userinfo call: the token in the header (GET or
// POST), the body, the query, or several of them.
func userinfoRequest(method, header, body, query string) *http.Request {
	target := wireIssuer + "/userinfo"
	if query != "" {
		target += "?access_token=" + url.QueryEscape(query)
	}
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(url.Values{"access_token": {body}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	return req
}

// TestUserinfoAnswers: the claims for a valid token however it is sent;
// RFC 6750's status and challenge for each way a request fails.
func TestUserinfoAnswers(t *testing.T) {
	e := newWireEnv(t)
	access, _ := e.login(t, "web", wireRedirect)
	clientOnly := e.clientToken(t, ScopeTelephone)
	clientOpenID := e.clientToken(t, "openid")
	for _, tt := range []struct {
		what      string
		req       *http.Request
		status    int
		challenge string // the WWW-Authenticate prefix; "" for none
	}{
		{"GET, header", userinfoRequest(http.MethodGet, "Bearer "+access, "", ""), 200, ""},
		{"GET, lower-case scheme", userinfoRequest(http.MethodGet, "bearer "+access, "", ""), 200, ""},
		{"POST, header", userinfoRequest(http.MethodPost, "Bearer "+access, "", ""), 200, ""},
		{"POST, body", userinfoRequest(http.MethodPost, "", access, ""), 200, ""},
		{"no token", userinfoRequest(http.MethodGet, "", "", ""), 401, `Bearer realm="tsubasa"`},
		{"another scheme", userinfoRequest(http.MethodGet, "Basic d2ViOnNlY3JldA==", "", ""), 401, `Bearer realm="tsubasa"`},
		{"garbage token", userinfoRequest(http.MethodGet, "Bearer not-a-token", "", ""), 401, `Bearer realm="tsubasa", error="invalid_token"`},
		{"empty bearer", userinfoRequest(http.MethodGet, "Bearer ", "", ""), 400, `Bearer realm="tsubasa", error="invalid_request"`},
		{"token in the query", userinfoRequest(http.MethodGet, "", "", access), 400, `Bearer realm="tsubasa", error="invalid_request"`},
		{"header and body", userinfoRequest(http.MethodPost, "Bearer "+access, access, ""), 400, `Bearer realm="tsubasa", error="invalid_request"`},
		{"client token without openid", userinfoRequest(http.MethodGet, "Bearer "+clientOnly, "", ""), 403,
			`Bearer realm="tsubasa", error="insufficient_scope"`},
		{"client token with openid", userinfoRequest(http.MethodGet, "Bearer "+clientOpenID, "", ""), 401,
			`Bearer realm="tsubasa", error="invalid_token"`},
		{"PUT", userinfoRequest(http.MethodPut, "Bearer "+access, "", ""), 405, ""},
	} {
		rec := e.serve(tt.req)
		checkWireHeaders(t, tt.what, rec, false)
		if rec.Code != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.what, rec.Code, tt.status, rec.Body.String())
			continue
		}
		challenge := rec.Header().Get("WWW-Authenticate")
		if tt.challenge == "" && challenge != "" || !strings.HasPrefix(challenge, tt.challenge) {
			t.Errorf("%s: WWW-Authenticate %q, want %q…", tt.what, challenge, tt.challenge)
		}
		if tt.status == http.StatusUnauthorized && tt.challenge == `Bearer realm="tsubasa"` && challenge != tt.challenge {
			t.Errorf("%s: a request without a token gets no error code (RFC 6750 §3.1), got %q", tt.what, challenge)
		}
		body := decode(t, rec)
		if tt.status == http.StatusOK {
			if body["sub"] != e.member.ID || body["email"] != "hanako@example.com" {
				t.Errorf("%s: claims %v", tt.what, body)
			}
		} else if body["error"] == nil || body["sub"] != nil {
			t.Errorf("%s: body %v, want an error and no claims", tt.what, body)
		}
	}
}

// TestUserinfoRefusesDeadTokens: expired, revoked, and a disabled member's
// tokens are invalid_token with 401, never 403.
func TestUserinfoRefusesDeadTokens(t *testing.T) {
	e := newWireEnv(t)
	get := func(token string) *httptest.ResponseRecorder {
		return e.serve(userinfoRequest(http.MethodGet, "Bearer "+token, "", ""))
	}
	invalid := func(what string, rec *httptest.ResponseRecorder) {
		t.Helper()
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: %d, WWW-Authenticate %q", what, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}

	revoked, _ := e.login(t, "web", wireRedirect)
	if rec := e.post("/revoke", url.Values{"token": {revoked}}, "web", wireSecret); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body.String())
	}
	invalid("revoked", get(revoked))

	expiring, _ := e.login(t, "web", wireRedirect)
	if rec := get(expiring); rec.Code != http.StatusOK {
		t.Fatalf("fresh token: %d %s", rec.Code, rec.Body.String())
	}
	e.clock.Advance(16 * time.Minute) // AccessTokenTTL is 15 minutes
	invalid("expired", get(expiring))

	live, _ := e.login(t, "web", wireRedirect)
	err := e.st.UpdateMember(t.Context(), e.member.ID, func(m storage.Member) (storage.Member, error) {
		m.Status = storage.MemberDisabled
		return m, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	invalid("disabled member", get(live))
}

// TestIntrospectionAnswers: confidential clients by Basic or post; the
// token's own client learns it is active (refresh tokens too), any other
// client and any dead token get {"active":false}; a wrong secret and an
// unknown client get the same 401.
func TestIntrospectionAnswers(t *testing.T) {
	e := newWireEnv(t)
	access, refresh := e.login(t, "web", wireRedirect)
	introspect := func(form url.Values, id, secret string) map[string]any {
		t.Helper()
		rec := e.post("/oauth/introspect", form, id, secret)
		checkWireHeaders(t, "introspection", rec, false)
		if rec.Code != http.StatusOK {
			t.Errorf("introspection %v as %s: %d %s", form, id, rec.Code, rec.Body.String())
		}
		return decode(t, rec)
	}
	if got := introspect(url.Values{"token": {access}}, "web", wireSecret); got["active"] != true || got["client_id"] != "web" || got["sub"] != e.member.ID {
		t.Errorf("own access token by Basic: %v", got)
	}
	post := url.Values{"token": {refresh}, "client_id": {"web"}, "client_secret": {wireSecret}}
	if got := introspect(post, "", ""); got["active"] != true || got["token_type"] != "refresh_token" {
		t.Errorf("own refresh token by post: %v", got)
	}
	for what, token := range map[string]string{"access": access, "refresh": refresh, "garbage": "x"} {
		if got := introspect(url.Values{"token": {token}}, "other", wireSecret); len(got) != 1 || got["active"] != false {
			t.Errorf("%s token to another client: %v, want only active=false", what, got)
		}
	}

	wrong := e.post("/oauth/introspect", url.Values{"token": {access}}, "web", "wrong")
	unknown := e.post("/oauth/introspect", url.Values{"token": {access}}, "nobody", "wrong")
	if wrong.Code != http.StatusUnauthorized || wrong.Body.String() != unknown.Body.String() || wrong.Code != unknown.Code {
		t.Errorf("wrong secret %d %q, unknown client %d %q: want the same 401", wrong.Code, wrong.Body.String(), unknown.Code, unknown.Body.String())
	}
	for what, rec := range map[string]*httptest.ResponseRecorder{
		"public client":  e.post("/oauth/introspect", url.Values{"token": {access}, "client_id": {"spa"}}, "", ""),
		"no token":       e.post("/oauth/introspect", nil, "web", wireSecret),
		"two methods":    e.post("/oauth/introspect", url.Values{"token": {access}, "client_secret": {wireSecret}}, "web", wireSecret),
		"secret in URL":  e.post("/oauth/introspect?client_secret="+wireSecret, url.Values{"token": {access}, "client_id": {"web"}}, "", ""),
		"JWT assertion":  e.post("/oauth/introspect", url.Values{"token": {access}, "client_assertion": {"x.y.z"}}, "", ""),
		"GET with token": e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/oauth/introspect?token="+access, nil)),
	} {
		checkWireHeaders(t, what, rec, false)
		if rec.Code < 400 || rec.Code >= 500 || decode(t, rec)["active"] != nil {
			t.Errorf("%s: %d %s, want a client error", what, rec.Code, rec.Body.String())
		}
	}
}

// TestRevocationOfAnotherClientsTokens: 200, and the tokens still work;
// the owner's revocation takes them.
func TestRevocationOfAnotherClientsTokens(t *testing.T) {
	e := newWireEnv(t)
	access, refresh := e.login(t, "web", wireRedirect)
	for _, token := range []string{access, refresh} {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			rec := e.post("/revoke", url.Values{"token": {token}, "token_type_hint": {hint}}, "other", wireSecret)
			if rec.Code != http.StatusOK {
				t.Errorf("another client revoking (hint %q): %d %s", hint, rec.Code, rec.Body.String())
			}
		}
	}
	if rec := e.serve(userinfoRequest(http.MethodGet, "Bearer "+access, "", "")); rec.Code != http.StatusOK {
		t.Errorf("access token after another client's revocation: %d", rec.Code)
	}
	rec := e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "web", wireSecret)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh token after another client's revocation: %d %s", rec.Code, rec.Body.String())
	}
	rotated, _ := decode(t, rec)["refresh_token"].(string)
	if rec := e.post("/revoke", url.Values{"token": {rotated}}, "web", wireSecret); rec.Code != http.StatusOK {
		t.Fatalf("owner's revocation: %d %s", rec.Code, rec.Body.String())
	}
	rec = e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rotated}}, "web", wireSecret)
	if rec.Code != http.StatusBadRequest || decode(t, rec)["error"] != "invalid_grant" {
		t.Errorf("refresh token after the owner revoked it: %d %s", rec.Code, rec.Body.String())
	}
}

// TestCodeRefusedAfterCredentialChange: a code answered under the
// member's old security stamp mints nothing once a credential change has
// replaced it (the change revoked every token when it committed; a login
// checked just before that commit may still hand out a code just after).
func TestCodeRefusedAfterCredentialChange(t *testing.T) {
	e := newWireEnv(t)
	stale := e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	if err := e.st.UpdateMember(t.Context(), e.member.ID, func(m storage.Member) (storage.Member, error) {
		m.SecurityStamp = "stamp-2"
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	rec := e.exchange(stale, "web", wireRedirect)
	if rec.Code != http.StatusBadRequest || decode(t, rec)["error"] != "invalid_grant" {
		t.Errorf("a code from before the credential change: %d %s, want 400 invalid_grant", rec.Code, rec.Body.String())
	}
	fresh := e.code(t, "web", wireRedirect, "stamp-2")
	if rec := e.exchange(fresh, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Errorf("a code under the current stamp: %d %s, want 200", rec.Code, rec.Body.String())
	}
}
