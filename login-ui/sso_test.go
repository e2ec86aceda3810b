package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// fakeAuthorize stands in for op's /authorize: it answers a request for
// the id in ?id= with the redirect to the login page, as op does, and
// ?id=bad with op's plain-text 400.
var fakeAuthorize = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "bad" {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	w.Header().Set("X-From-Op", "1")
	http.Redirect(w, r, LoginURL(id), http.StatusFound)
})

func (e *consentEnv) authorize(id string, cookie bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/authorize?id="+id, nil)
	if cookie {
		r.AddCookie(e.cookie)
	}
	w := httptest.NewRecorder()
	e.u.SSO(fakeAuthorize).ServeHTTP(w, r)
	return w
}

func TestSSOAnswersFromAuthorize(t *testing.T) {
	e := newConsentEnv(t)
	ctx := t.Context()
	sessID := func() string {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(e.cookie)
		return e.u.session(r).ID
	}()

	// A first-party client: answered at once, bound to this browser, done.
	e.request("w1", "web", []string{"openid"})
	w := e.authorize("w1", true)
	if loc := w.Header().Get("Location"); w.Code != http.StatusFound || loc != "/authorize/callback?id=w1" {
		t.Fatalf("SSO answer: %d to %q", w.Code, loc)
	}
	if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("SSO answer lacks the login pages' security headers: %v", w.Header())
	}
	req, err := e.store.AuthRequestByID(ctx, "w1")
	if err != nil || !req.Done || req.MemberID != e.member.ID || req.BrowserSession != sessID || req.SessionID != sessID {
		t.Fatalf("request after the SSO answer: %+v, %v", req, err)
	}

	// A third-party app without consent: on to the consent page, the
	// request bound to this browser first (bindForStep), so that the
	// consent page finds it this browser's, and not answered yet.
	e.request("p1", "partner", []string{"openid"})
	if w := e.authorize("p1", true); w.Header().Get("Location") != "/login/consent?authRequestID=p1" {
		t.Errorf("third-party SSO: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if req, err := e.store.AuthRequestByID(ctx, "p1"); err != nil || req.BrowserSession != sessID || req.Done {
		t.Errorf("request sent to the consent page: %+v, %v", req, err)
	}

	// Everything the login page must decide goes there unchanged.
	tooOld := int64(60) // the session logged in an hour ago
	cases := []struct {
		name   string
		req    storage.AuthRequest
		cookie bool
	}{
		{"no session cookie", storage.AuthRequest{ID: "n1"}, false},
		{"prompt=login", storage.AuthRequest{ID: "n2", Prompt: []string{"login"}}, true},
		{"max_age passed", storage.AuthRequest{ID: "n3", MaxAge: &tooOld}, true},
		{"stronger acr_values", storage.AuthRequest{ID: "n4", ACRValues: []string{acr.OTP}}, true},
		{"bound to another browser", storage.AuthRequest{ID: "n5", BrowserSession: "someone-else"}, true},
		{"already done", storage.AuthRequest{ID: "n6", Done: true}, true},
		{"id_token_hint of another member", storage.AuthRequest{ID: "n7", HintSubject: "m2"}, true},
	}
	for _, c := range cases {
		r := c.req
		r.ClientID, r.RedirectURI, r.Scopes = "web", "https://rp.example/cb", []string{"openid"}
		r.CreatedAt, r.ExpiresAt = e.now.Add(-time.Minute), e.now.Add(time.Hour)
		if err := e.store.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		w := e.authorize(r.ID, c.cookie)
		if loc := w.Header().Get("Location"); w.Code != http.StatusFound || loc != LoginURL(r.ID) || w.Header().Get("X-From-Op") != "1" {
			t.Errorf("%s: %d to %q, want op's redirect to the login page", c.name, w.Code, loc)
		}
		got, err := e.store.AuthRequestByID(ctx, r.ID)
		if err != nil || got.Done != c.req.Done || got.BrowserSession != c.req.BrowserSession {
			t.Errorf("%s: the request changed: %+v, %v", c.name, got, err)
		}
	}

	// op's own errors pass through untouched.
	w = e.authorize("bad", true)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid redirect_uri") {
		t.Errorf("op's error: %d %q", w.Code, w.Body)
	}
	if len(e.failed) != 0 {
		t.Errorf("errors sent to the relying party: %v", e.failed)
	}
}

// TestSSOAnswerKeepsAnotherBrowsersRequest: an SSO answer binds its
// request in the write that completes it. When another browser bound the
// request between the SSO check's read and that write, the write refuses
// (error.request_foreign) and the request stays the other browser's,
// unanswered, as the separate bind it replaces would have left it.
func TestSSOAnswerKeepsAnotherBrowsersRequest(t *testing.T) {
	e := newConsentEnv(t)
	ctx := t.Context()
	e.request("r1", "web", []string{"openid"})
	seen, err := e.store.AuthRequestByID(ctx, "r1") // what the SSO check read: unbound
	if err != nil || seen.BrowserSession != "" {
		t.Fatalf("request before the race: %+v, %v", seen, err)
	}
	if err := e.store.UpdateAuthRequest(ctx, "r1", bindTo("other-browser")); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/authorize?id=r1", nil)
	r.AddCookie(e.cookie)
	w := httptest.NewRecorder()
	e.u.finish(w, r, e.u.session(r), seen)
	if w.Code != http.StatusForbidden || w.Header().Get("Location") != "" {
		t.Errorf("SSO answer of another browser's request: %d to %q, want 403", w.Code, w.Header().Get("Location"))
	}
	got, err := e.store.AuthRequestByID(ctx, "r1")
	if err != nil || got.BrowserSession != "other-browser" || got.Done || got.MemberID != "" {
		t.Errorf("the other browser's request changed: %+v, %v", got, err)
	}
}

// TestSSOAnswerOfAHandedOffRequestKeepsAnotherBrowsersRequest: the SSO
// answer takes the request op created in the same HTTP request from the
// handoff (storage.WithHandoff) instead of reading it back. That copy is
// unbound; when another browser bound the request meanwhile, the write
// that completes it still refuses under the row's lock, so the handed-off
// copy never decides the binding.
func TestSSOAnswerOfAHandedOffRequestKeepsAnotherBrowsersRequest(t *testing.T) {
	e := newConsentEnv(t)
	ctx := t.Context()
	e.request("r1", "web", []string{"openid"})
	created, err := e.store.AuthRequestByID(ctx, "r1")
	if err != nil || created.BrowserSession != "" {
		t.Fatalf("request as created: %+v, %v", created, err)
	}
	if err := e.store.UpdateAuthRequest(ctx, "r1", bindTo("other-browser")); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/authorize?id=r1", nil)
	r.AddCookie(e.cookie)
	r = r.WithContext(storage.WithHandoff(r.Context()))
	storage.HandOffAuthRequest(r.Context(), created) // as op's CreateAuthRequest hands it off
	w := httptest.NewRecorder()
	if !e.u.answerFromSession(w, r, "r1") {
		t.Fatal("the SSO check did not take the handed-off request")
	}
	if w.Code != http.StatusForbidden || w.Header().Get("Location") != "" {
		t.Errorf("SSO answer of another browser's request: %d to %q, want 403", w.Code, w.Header().Get("Location"))
	}
	got, err := e.store.AuthRequestByID(ctx, "r1")
	if err != nil || got.BrowserSession != "other-browser" || got.Done || got.MemberID != "" {
		t.Errorf("the other browser's request changed: %+v, %v", got, err)
	}
}

// TestIDTokenHintNamesTheSessionMember: an id_token_hint naming the
// session's member is answered from the session; one naming another
// member never is: the login page asks, and prompt=none gets
// login_required (OpenID Connect Core 1.0 §3.1.2.1).
func TestIDTokenHintNamesTheSessionMember(t *testing.T) {
	e := newConsentEnv(t)
	ctx := t.Context()
	for id, hint := range map[string]string{"own": e.member.ID, "foreign": "m2", "foreign-none": "m2"} {
		r := storage.AuthRequest{ID: id, ClientID: "web", RedirectURI: "https://rp.example/cb", Scopes: []string{"openid"},
			HintSubject: hint, CreatedAt: e.now.Add(-time.Minute), ExpiresAt: e.now.Add(time.Hour)}
		if id == "foreign-none" {
			r.Prompt = []string{"none"}
		}
		if err := e.store.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if w := e.authorize("own", true); w.Header().Get("Location") != "/authorize/callback?id=own" {
		t.Errorf("hint of the session's member: %d to %q, want the answer", w.Code, w.Header().Get("Location"))
	}
	if w := e.authorize("foreign", true); w.Header().Get("Location") != LoginURL("foreign") {
		t.Errorf("hint of another member at /authorize: %d to %q, want the login page", w.Code, w.Header().Get("Location"))
	}
	if w := e.do("GET", LoginURL("foreign"), nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="password"`) {
		t.Errorf("hint of another member: %d, want the login form", w.Code)
	}
	if w := e.do("GET", LoginURL("foreign-none"), nil); w.Code != http.StatusFound || len(e.failed) != 1 || e.failed[0] != "login_required" {
		t.Errorf("hint of another member with prompt=none: %d, errors %v; want login_required", w.Code, e.failed)
	}
	for _, id := range []string{"foreign", "foreign-none"} {
		if got, err := e.store.AuthRequestByID(ctx, id); err == nil && got.Done {
			t.Errorf("request %s was answered with the session's member", id)
		}
	}
}

func TestLoginRequestID(t *testing.T) {
	for loc, want := range map[string]string{
		LoginURL("abc"):                     "abc",
		LoginURL("a b&c"):                   "a b&c",
		"/login?authRequestID=":             "",
		"/login?authRequestID=abc&x=1":      "",
		"/login/otp?authRequestID=abc":      "",
		"https://rp.example/cb?code=abc":    "",
		"/login?authRequestID=%zz":          "",
		"/login?authRequestID=a%20b%26c":    "",
		"/login?authRequestID=a+b%26c&lang": "",
	} {
		got, ok := loginRequestID(loc)
		if got != want || ok != (want != "") {
			t.Errorf("loginRequestID(%q) = %q, %v; want %q", loc, got, ok, want)
		}
	}
}

// TestSSOStoresAHeldRequestBeforeAnswering: under the SSO wrapper a
// backend may hold the request /authorize creates unstored
// (storage.DeferAuthRequest). Whatever the answer, the request is stored
// before its first byte; when storing fails the answer is the server-error
// page, never a redirect to a login page that would find no request.
func TestSSOStoresAHeldRequestBeforeAnswering(t *testing.T) {
	e := newConsentEnv(t)
	boom := errors.New("the database is unreachable")
	var stores int
	held := func(fail bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.URL.Query().Get("id")
			req := storage.AuthRequest{ID: id, ClientID: "web", RedirectURI: "https://rp.example/cb", Scopes: []string{"openid"},
				Prompt: []string{"login"}, CreatedAt: e.now.Add(-time.Minute), ExpiresAt: e.now.Add(time.Hour)}
			write := func(ctx context.Context, r storage.AuthRequest) error {
				stores++
				if fail {
					return boom
				}
				return e.store.CreateAuthRequest(context.WithoutCancel(ctx), r)
			}
			if !storage.DeferAuthRequest(r.Context(), req, write) {
				t.Error("the SSO wrapper's context does not let a backend hold the request")
			}
			http.Redirect(w, r, LoginURL(id), http.StatusFound)
		})
	}
	serve := func(h http.Handler, id string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/authorize?id="+id, nil)
		r.AddCookie(e.cookie)
		w := httptest.NewRecorder()
		e.u.SSO(h).ServeHTTP(w, r)
		return w
	}

	// prompt=login: not answered here, on to the login page, stored first.
	w := serve(held(false), "h1")
	if w.Code != http.StatusFound || w.Header().Get("Location") != LoginURL("h1") {
		t.Fatalf("held request: %d to %q, want the login page", w.Code, w.Header().Get("Location"))
	}
	if _, err := e.store.AuthRequestByID(t.Context(), "h1"); err != nil || stores != 1 {
		t.Errorf("the request the login page will read: %v after %d stores, want stored once", err, stores)
	}

	w = serve(held(true), "h2")
	if w.Code < 500 || w.Header().Get("Location") != "" {
		t.Errorf("storing failed: %d to %q, want the server-error page and no redirect", w.Code, w.Header().Get("Location"))
	}
	if stores != 2 {
		t.Errorf("%d stores, want one more try", stores)
	}
}
