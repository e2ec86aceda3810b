package provider

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

const partnerRedirect = "https://partner.example/cb"

// partnerParams is a sound authorization request of client partner.
func partnerParams() url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {"partner"}, "redirect_uri": {partnerRedirect},
		"scope": {"openid profile"}, "state": {"st-par"}, "nonce": {"n-par"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
}

// push sends params to the PAR endpoint as partner (a fresh assertion).
func (e *wireEnv) push(t *testing.T, params url.Values) *httptest.ResponseRecorder {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("client_assertion_type", oidc.ClientAssertionTypeJWTAssertion)
	form.Set("client_assertion", e.partner.assertion(t, "partner", wireIssuer, e.clock.Now(), time.Minute))
	return e.post(parPath, form, "", "")
}

// authorizeQuery is /authorize's answer to q, and the authorization
// request it stored when it sent the browser to the login page.
func (e *wireEnv) authorizeQuery(t *testing.T, q url.Values) (*httptest.ResponseRecorder, string) {
	t.Helper()
	rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/authorize?"+q.Encode(), nil))
	loc := rec.Header().Get("Location")
	if id, ok := strings.CutPrefix(loc, "/login?authRequestID="); ok {
		return rec, id
	}
	return rec, ""
}

// TestPushedAuthorizationRequests: a pushed request comes back as the
// request at /authorize, once, for its own client, within its lifetime;
// the query's other parameters are ignored.
func TestPushedAuthorizationRequests(t *testing.T) {
	e := newWireEnv(t)
	rec := e.push(t, partnerParams())
	checkWireHeaders(t, "PAR", rec, false)
	out := decode(t, rec)
	uri, _ := out["request_uri"].(string)
	if rec.Code != http.StatusCreated || !strings.HasPrefix(uri, requestURIPrefix) || out["expires_in"] != float64(60) {
		t.Fatalf("push: %d %v", rec.Code, out)
	}
	// Another client naming it gets nothing, and does not use it up.
	if rec, id := e.authorizeQuery(t, url.Values{"client_id": {"web"}, "request_uri": {uri}}); rec.Code != http.StatusBadRequest || id != "" {
		t.Errorf("another client's request_uri: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	q := url.Values{"client_id": {"partner"}, "request_uri": {uri}, "nonce": {"from-the-query"}, "redirect_uri": {"https://evil.example/"}}
	rec, id := e.authorizeQuery(t, q)
	if id == "" {
		t.Fatalf("authorize with the request_uri: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	ar, err := e.st.AuthRequestByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Nonce != "n-par" || ar.RedirectURI != partnerRedirect || ar.State != "st-par" || ar.ClientID != "partner" {
		t.Errorf("stored request %+v: want the pushed parameters, not the query's", ar)
	}
	if rec, id := e.authorizeQuery(t, url.Values{"client_id": {"partner"}, "request_uri": {uri}}); rec.Code != http.StatusBadRequest || id != "" {
		t.Errorf("the request_uri a second time: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Expired: 60 s.
	rec = e.push(t, partnerParams())
	late, _ := decode(t, rec)["request_uri"].(string)
	e.clock.Advance(61 * time.Second)
	if rec, id := e.authorizeQuery(t, url.Values{"client_id": {"partner"}, "request_uri": {late}}); rec.Code != http.StatusBadRequest || id != "" {
		t.Errorf("an expired request_uri: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// TestPushedRequestsAreValidated: what /authorize would refuse is refused
// at the push, as JSON (RFC 9126 §2.3); nothing is stored.
func TestPushedRequestsAreValidated(t *testing.T) {
	e := newWireEnv(t)
	with := func(kv ...string) url.Values {
		p := partnerParams()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				p.Del(kv[i])
			} else {
				p.Set(kv[i], kv[i+1])
			}
		}
		return p
	}
	for name, tt := range map[string]struct {
		params url.Values
		code   string
	}{
		"unregistered redirect_uri":   {with("redirect_uri", "https://evil.example/cb"), "invalid_request"},
		"no redirect_uri":             {with("redirect_uri", ""), "invalid_request"},
		"a response type not offered": {with("response_type", "token"), "unsupported_response_type"},
		"plain PKCE":                  {with("code_challenge_method", "plain"), "invalid_request"},
		"no openid scope":             {with("scope", "profile"), "invalid_scope"},
		"prompt none with login":      {with("prompt", "none login"), "invalid_request"},
		"max_age that is no number":   {with("max_age", "soon"), "invalid_request"},
		"a request_uri inside":        {with("request_uri", requestURIPrefix+"x"), "invalid_request"},
		"an unsigned request object":  {with("request", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJwYXJ0bmVyIn0."), "invalid_request_object"},
		"repeated state":              {func() url.Values { p := partnerParams(); p.Add("state", "two"); return p }(), "invalid_request"},
	} {
		rec := e.push(t, tt.params)
		checkWireHeaders(t, name, rec, false)
		got := decode(t, rec)
		if rec.Code != http.StatusBadRequest || got["error"] != tt.code || got["request_uri"] != nil {
			t.Errorf("%s: %d %v, want 400 %s", name, rec.Code, got, tt.code)
		}
	}
	// A client that must push cannot skip it.
	e2 := newWireEnvWith(t, func(o *Options) { o.RequirePAR = true })
	rec, id := e2.authorizeQuery(t, partnerParams())
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if id != "" || loc == nil || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "push") {
		t.Errorf("an unpushed request with PAR required: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if _, id := e2.authorizeQuery(t, url.Values{"client_id": {"partner"}, "request_uri": {decode(t, e2.push(t, partnerParams()))["request_uri"].(string)}}); id == "" {
		t.Error("a pushed request with PAR required was refused")
	}
}

// objectClaims is a sound request object of client partner.
func (e *wireEnv) objectClaims(kv ...any) map[string]any {
	now := e.clock.Now()
	c := map[string]any{"iss": "partner", "aud": wireIssuer, "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix()}
	for k, v := range partnerParams() {
		c[k] = v[0]
	}
	c["max_age"] = 600
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// TestRequestObjects: a request object signed by the client is the
// request, its parameters alone; anything else about it is
// invalid_request_object at the query's redirect URI, with the state.
func TestRequestObjects(t *testing.T) {
	e := newWireEnv(t)
	query := func(obj string) url.Values {
		return url.Values{"client_id": {"partner"}, "request": {obj}, "redirect_uri": {partnerRedirect},
			"response_type": {"code"}, "scope": {"openid"}, "state": {"st-query"}, "nonce": {"from-the-query"}}
	}
	typ := map[jose.HeaderKey]any{jose.HeaderType: "oauth-authz-req+jwt"}
	rec, id := e.authorizeQuery(t, query(e.partner.sign(t, e.objectClaims(), typ)))
	if id == "" {
		t.Fatalf("a signed request object: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	ar, err := e.st.AuthRequestByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Nonce != "n-par" || ar.State != "st-par" || ar.MaxAge == nil || *ar.MaxAge != 600 {
		t.Errorf("stored %+v: want the object's parameters", ar)
	}
	other := newPartnerKey(t, "partner-key-1")
	now := e.clock.Now()
	for name, obj := range map[string]string{
		"signed by another key":        other.sign(t, e.objectClaims(), nil),
		"alg none":                     "eyJhbGciOiJub25lIn0." + strings.Split(e.partner.sign(t, e.objectClaims(), nil), ".")[1] + ".",
		"expired":                      e.partner.sign(t, e.objectClaims("exp", now.Add(-time.Minute).Unix()), nil),
		"without exp":                  e.partner.sign(t, e.objectClaims("exp", nil), nil),
		"for a day":                    e.partner.sign(t, e.objectClaims("exp", now.Add(24*time.Hour).Unix()), nil),
		"for another audience":         e.partner.sign(t, e.objectClaims("aud", "https://other.example"), nil),
		"from another issuer":          e.partner.sign(t, e.objectClaims("iss", "web"), nil),
		"naming another client":        e.partner.sign(t, e.objectClaims("client_id", "web"), nil),
		"with a request_uri":           e.partner.sign(t, e.objectClaims("request_uri", "https://x.example/r"), nil),
		"a DPoP proof's type":          e.partner.sign(t, e.objectClaims(), map[jose.HeaderKey]any{jose.HeaderType: "dpop+jwt"}),
		"max_age that is no number":    e.partner.sign(t, e.objectClaims("max_age", "soon"), nil),
		"a scope that is not a string": e.partner.sign(t, e.objectClaims("scope", []string{"openid"}), nil),
	} {
		rec, id := e.authorizeQuery(t, query(obj))
		loc, _ := url.Parse(rec.Header().Get("Location"))
		if id != "" || loc == nil || !strings.HasPrefix(loc.String(), partnerRedirect+"?") {
			t.Errorf("%s: %d %q, want an error at the redirect URI", name, rec.Code, rec.Header().Get("Location"))
			continue
		}
		if q := loc.Query(); q.Get("error") != "invalid_request_object" || q.Get("state") != "st-query" || q.Get("iss") != wireIssuer {
			t.Errorf("%s: %v, want invalid_request_object with the state and iss", name, q)
		}
	}
	// request and request_uri together: neither is taken.
	both := query(e.partner.sign(t, e.objectClaims(), typ))
	both.Set("request_uri", decode(t, e.push(t, partnerParams()))["request_uri"].(string))
	if rec, id := e.authorizeQuery(t, both); id != "" || !strings.Contains(rec.Header().Get("Location"), "error=invalid_request") {
		t.Errorf("request and request_uri: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Without a redirect URI in the query, an object that does not verify
	// has nowhere to be answered: the error page.
	q := query(other.sign(t, e.objectClaims(), nil))
	q.Del("redirect_uri")
	if rec, _ := e.authorizeQuery(t, q); rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
		t.Errorf("a bad object and no redirect_uri: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Pushed inside a PAR request, it is the pushed request.
	rec = e.push(t, url.Values{"request": {e.partner.sign(t, e.objectClaims("nonce", "n-jar-par"), typ)}})
	uri, _ := decode(t, rec)["request_uri"].(string)
	if _, id := e.authorizeQuery(t, url.Values{"client_id": {"partner"}, "request_uri": {uri}}); id == "" {
		t.Fatalf("a pushed request object: %d %s", rec.Code, rec.Body.String())
	} else if ar, _ := e.st.AuthRequestByID(t.Context(), id); ar.Nonce != "n-jar-par" {
		t.Errorf("stored %+v: want the pushed object's nonce", ar)
	}
}

// TestAuthorizationResponsesCarryIss: RFC 9207, success and error alike.
func TestAuthorizationResponsesCarryIss(t *testing.T) {
	e := newWireEnv(t)
	_, _, errParams := authorizeAnswer(t, e, url.Values{"client_id": {"web"}, "redirect_uri": {wireRedirect},
		"response_type": {"token"}, "response_mode": {"query"}, "scope": {"openid"}, "state": {"st"}})
	if errParams.Get("error") == "" || errParams.Get("iss") != wireIssuer {
		t.Errorf("error response: %v, want iss %s", errParams, wireIssuer)
	}
	_, id := e.authorizeQuery(t, partnerParams())
	if id == "" {
		t.Fatal("no authorization request")
	}
	if err := e.st.UpdateAuthRequest(t.Context(), id, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		r.Done, r.MemberID, r.AuthTime, r.MemberStamp = true, e.member.ID, e.clock.Now(), e.member.SecurityStamp
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	// op's callback answers with the code too (cmd guards it; the login
	// UI answers through AnswerAuthRequest), once.
	rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/authorize/callback?id="+url.QueryEscape(id), nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("iss") != wireIssuer {
		t.Errorf("callback response %q: want a code and iss", rec.Header().Get("Location"))
	}
	_, id = e.authorizeQuery(t, partnerParams())
	if err := e.st.UpdateAuthRequest(t.Context(), id, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		r.Done, r.MemberID, r.AuthTime, r.MemberStamp = true, e.member.ID, e.clock.Now(), e.member.SecurityStamp
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	e.p.AnswerAuthRequest(rec, httptest.NewRequest(http.MethodGet, wireIssuer+"/login", nil), id)
	loc, _ = url.Parse(rec.Header().Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("iss") != wireIssuer {
		t.Errorf("code response %q: want a code and iss", rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	_, id = e.authorizeQuery(t, partnerParams())
	e.p.FailAuthRequest(rec, httptest.NewRequest(http.MethodGet, wireIssuer+"/login", nil), id, "access_denied", "no")
	if loc, _ := url.Parse(rec.Header().Get("Location")); loc == nil || loc.Query().Get("iss") != wireIssuer {
		t.Errorf("access_denied response %q: want iss", rec.Header().Get("Location"))
	}
}
