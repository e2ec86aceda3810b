package loginui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/acr"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// TestConsentScopeTextsInBothCatalogs: every scope and claim the consent
// page can show is explained in Japanese and English.
func TestConsentScopeTextsInBothCatalogs(t *testing.T) {
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{otherScopeKey, "common.date_layout"}
	for _, sc := range scopeClaims {
		keys = append(keys, "consent.scope."+sc.scope+".title", "consent.scope."+sc.scope+".desc")
		for _, c := range sc.claims {
			keys = append(keys, "consent.claim."+c)
		}
	}
	for _, want := range []string{"openid", "profile", "email", "phone", "membership", "offline_access"} {
		if scopeRank(want) == len(scopeClaims) {
			t.Errorf("scope %s has no description", want)
		}
	}
	for _, lang := range []string{"ja", "en"} {
		for _, k := range keys {
			if v, ok := cat[lang][k]; !ok || strings.TrimSpace(v) == "" {
				t.Errorf("%s catalog lacks %s", lang, k)
			}
		}
	}
	if cat["ja"]["consent.scope.openid.title"] == cat["en"]["consent.scope.openid.title"] {
		t.Error("the openid scope is not translated")
	}
}

func TestCoversAndUnion(t *testing.T) {
	if !covers([]string{"openid", "profile", "email"}, []string{"profile", "openid"}) {
		t.Error("a subset must be covered")
	}
	if covers([]string{"openid", "profile"}, []string{"openid", "offline_access"}) {
		t.Error("offline_access beyond the consent must not be covered")
	}
	got := union([]string{"offline_access", "openid"}, []string{"zeta", "email", "openid", "alpha"})
	if want := []string{"openid", "email", "offline_access", "alpha", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("union = %v, want %v", got, want)
	}
}

// consentEnv is a UI with only the consent feature over a real store, a
// logged-in member and a third-party client.
type consentEnv struct {
	t       *testing.T
	u       *UI
	store   *bolt.Store
	member  storage.Member
	cookie  *http.Cookie
	now     time.Time
	failed  []string
	revoked int
}

func newConsentEnv(t *testing.T) *consentEnv {
	st := bolttest.Open(t, bolt.Options{})
	e := &consentEnv{t: t, store: st, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	e.member = storage.Member{ID: "m1", Number: "123456321", Status: storage.MemberActive, Locale: "en", CreatedAt: e.now, UpdatedAt: e.now}
	if err := st.CreateMember(t.Context(), e.member); err != nil {
		t.Fatal(err)
	}
	clients := map[string]ConsentClient{
		"partner": {ID: "partner", Name: "Sky Partner", ThirdParty: true, LogoURI: "https://partner.example/logo.png",
			PolicyURI: "https://partner.example/privacy", Scopes: []string{"openid", "profile", "offline_access"}},
		"web": {ID: "web", Name: "Member website"},
	}
	var err error
	e.u, err = New(Options{
		Store:      st,
		CookieKey:  make([]byte, 32),
		SessionTTL: 24 * time.Hour,
		Callback:   func(_ context.Context, id string) string { return "/authorize/callback?id=" + id },
		Fail: func(w http.ResponseWriter, r *http.Request, id, code, _ string) {
			e.failed = append(e.failed, code)
			http.Redirect(w, r, "https://rp.example/cb?error="+code, http.StatusFound)
		},
		Features: []Feature{Consent(ConsentOptions{
			Client: func(_ context.Context, id string) (ConsentClient, error) {
				if c, ok := clients[id]; ok {
					return c, nil
				}
				return ConsentClient{}, fmt.Errorf("client %s: %w", id, storage.ErrNotFound)
			},
			Revoke: func(_ context.Context, _, _ string) (int, error) { e.revoked++; return 2, nil },
			Store:  st,
		})},
		Now: func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The SSO session of the member, logged in with a password an hour ago.
	r := httptest.NewRequest("GET", "/", nil)
	sess, _ := e.u.sessions.New(r, e.u.cookie)
	sess.Values[keyMember] = e.member.ID
	sess.Values[keyAuthTime] = strconv.FormatInt(e.now.Add(-time.Hour).Unix(), 10)
	sess.Values[keyACR] = acr.Password
	sess.Values[keyAMR] = "pwd"
	w := httptest.NewRecorder()
	if err := e.u.sessions.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	e.cookie = w.Result().Cookies()[0]
	return e
}

func (e *consentEnv) request(id, client string, scopes []string, prompt ...string) storage.AuthRequest {
	req := storage.AuthRequest{ID: id, ClientID: client, RedirectURI: "https://rp.example/cb", Scopes: scopes, Prompt: prompt,
		CreatedAt: e.now.Add(-time.Minute), ExpiresAt: e.now.Add(time.Hour)}
	if err := e.store.CreateAuthRequest(e.t.Context(), req); err != nil {
		e.t.Fatal(err)
	}
	return req
}

func (e *consentEnv) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.AddCookie(e.cookie)
	w := httptest.NewRecorder()
	e.u.Handler().ServeHTTP(w, r)
	return w
}

func TestConsentPageApproveRememberAndUnlink(t *testing.T) {
	e := newConsentEnv(t)
	ctx := t.Context()
	req := e.request("r1", "partner", []string{"openid", "profile", "offline_access"})

	w := e.do("GET", "/login/consent?authRequestID=r1", nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("consent page: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		`<img src="https://partner.example/logo.png" alt="Sky Partner"`,
		`href="https://partner.example/privacy" rel="noopener noreferrer"`,
		`value="approve" class="primary"`, `value="deny"`,
		"******321", "Your membership ID for this app", "Stay connected when you are not using the app",
		"Name in Latin letters", `action="/login/consent/switch"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "123456321") {
		t.Error("consent page has a script or the unmasked member number")
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https:") {
		t.Errorf("CSP does not allow https logos: %s", csp)
	}

	need, err := e.consent().consentNeeded(ctx, e.given(), e.member.ID, req)
	if err != nil || !need {
		t.Fatalf("before approval: needed=%v err=%v", need, err)
	}
	w = e.do("POST", "/login/consent", url.Values{"authRequestID": {"r1"}, "action": {"approve"}})
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/authorize/callback?id=r1") {
		t.Fatalf("approve: %d to %q\n%s", w.Code, loc, w.Body)
	}
	c, err := e.store.ConsentByID(ctx, e.member.ID, "partner")
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "profile", "offline_access"}) {
		t.Fatalf("stored consent %+v, %v", c, err)
	}

	// The same scopes again: no page; more scope: the page again.
	same := e.request("r2", "partner", []string{"openid", "profile"})
	if need, _ := e.consent().consentNeeded(ctx, e.given(), e.member.ID, same); need {
		t.Error("a covered request asks again")
	}
	more := e.request("r3", "partner", []string{"openid", "email"})
	if need, _ := e.consent().consentNeeded(ctx, e.given(), e.member.ID, more); !need {
		t.Error("a request for more scope does not ask")
	}
	// prompt=consent asks although covered, until approved in that request.
	again := e.request("r4", "partner", []string{"openid"}, "consent")
	if need, _ := e.consent().consentNeeded(ctx, e.given(), e.member.ID, again); !need {
		t.Error("prompt=consent does not ask")
	}
	w = e.do("POST", "/login/consent", url.Values{"authRequestID": {"r4"}, "action": {"approve"}})
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/authorize/callback?id=r4") {
		t.Fatalf("prompt=consent approve loops: %d to %q", w.Code, loc)
	}
	if need, _ := e.consent().consentNeeded(ctx, e.given(), e.member.ID, again); need {
		t.Error("prompt=consent asks again after the member approved in this request")
	}

	// Linked apps list and unlink.
	w = e.do("GET", "/account/apps", nil)
	if !strings.Contains(w.Body.String(), "Sky Partner") || !strings.Contains(w.Body.String(), "Linked since 1 May 2026") {
		t.Fatalf("apps page:\n%s", w.Body)
	}
	w = e.do("POST", "/account/apps/unlink", url.Values{"client_id": {"partner"}})
	if w.Code != http.StatusSeeOther || e.revoked != 1 {
		t.Fatalf("unlink: %d, revoked %d times", w.Code, e.revoked)
	}
	if _, err := e.store.ConsentByID(ctx, e.member.ID, "partner"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("consent survives unlink: %v", err)
	}
	evs, _ := e.store.ListEvents(ctx, e.member.ID, 10)
	if len(evs) != 1 || evs[0].Type != "app.unlinked" || evs[0].ClientID != "partner" || evs[0].Detail["revoked"] != "2" {
		t.Errorf("audit events after unlink: %+v", evs)
	}
	if w := e.do("GET", "/account/apps?done=unlinked", nil); strings.Contains(w.Body.String(), "Sky Partner") ||
		!strings.Contains(w.Body.String(), "The app has been unlinked.") {
		t.Errorf("apps page after unlink:\n%s", w.Body)
	}
}

func TestConsentDenyAndGuards(t *testing.T) {
	e := newConsentEnv(t)
	e.request("d1", "partner", []string{"openid"})
	w := e.do("POST", "/login/consent", url.Values{"authRequestID": {"d1"}, "action": {"deny"}})
	if !slices.Equal(e.failed, []string{"access_denied"}) || !strings.Contains(w.Header().Get("Location"), "error=access_denied") {
		t.Errorf("deny: failed=%v location=%q", e.failed, w.Header().Get("Location"))
	}
	if _, err := e.store.ConsentByID(t.Context(), e.member.ID, "partner"); !errors.Is(err, storage.ErrNotFound) {
		t.Error("deny stored a consent")
	}
	// prompt=login (op sets max_age=0): the hour-old session does not do,
	// even when the consent page is opened by URL.
	req := storage.AuthRequest{ID: "g1", ClientID: "partner", RedirectURI: "https://rp.example/cb", Scopes: []string{"openid"},
		Prompt: []string{"login"}, MaxAge: new(int64), CreatedAt: e.now.Add(-time.Minute), ExpiresAt: e.now.Add(time.Hour)}
	if err := e.store.CreateAuthRequest(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*httptest.ResponseRecorder{
		e.do("GET", "/login/consent?authRequestID=g1", nil),
		e.do("POST", "/login/consent", url.Values{"authRequestID": {"g1"}, "action": {"approve"}}),
	} {
		if loc := w.Header().Get("Location"); loc != LoginURL("g1") {
			t.Errorf("stale session on a prompt=login request: %d to %q", w.Code, loc)
		}
	}
	// First-party clients never need consent.
	web := storage.AuthRequest{ID: "w1", ClientID: "web", Scopes: []string{"openid"}}
	if need, err := e.consent().needed(t.Context(), httptest.NewRequest("GET", "/", nil), flowState{MemberID: e.member.ID}, web); need || err != nil {
		t.Errorf("first-party client: needed=%v err=%v", need, err)
	}
}

func (e *consentEnv) consent() *consentFeature {
	return e.u.opts.Features[0].(*consentFeature)
}

func (e *consentEnv) given() string {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(e.cookie)
	return value(e.u.session(r), keyConsentGiven)
}
