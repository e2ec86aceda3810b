package loginui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/audit"
	"tsubasa/provider/member"
	"tsubasa/provider/risk"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

const (
	testNumber = "7654321"
	testPass   = "Hikouki-2026"
	uaChrome   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaFirefox  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
)

// failingLogins makes the atomic login record fail, as a full disk would.
type failingLogins struct{ risk.Store }

func (failingLogins) RecordLogin(context.Context, storage.LoginRecord) error {
	return errors.New("disk full")
}

type riskFixture struct {
	st     *bolt.Store
	srv    *httptest.Server
	ui     *UI
	member storage.Member
}

// newRiskFixture serves a UI with the risk feature (and, with failLogins,
// a store whose login records fail) and one member.
func newRiskFixture(t *testing.T, failLogins bool) *riskFixture {
	t.Helper()
	st := bolttest.Open(t, bolt.Options{})
	members, m := newMembers(t, st, member.NewMember{Number: testNumber, Password: testPass, FamilyName: "空野", Email: "hanako@example.com"})
	var engineStore risk.Store = st
	if failLogins {
		engineStore = failingLogins{st}
	}
	al := audit.New(st, nil)
	engine := risk.New(engineStore, nil, risk.Options{HMACKey: make([]byte, 32), Audit: al})
	ui, err := New(Options{
		Store: st, Members: members, CookieKey: make([]byte, 32), SessionTTL: time.Hour, IdleTTL: time.Hour,
		Callback: func(context.Context, string) string { return "/done" },
		Logger:   slog.New(slog.DiscardHandler),
		Features: []Feature{Risk(RiskOptions{Engine: engine, Store: st, Audit: al, Location: time.FixedZone("JST", 9*3600)})},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	return &riskFixture{st: st, srv: srv, ui: ui, member: m}
}

// browser is a client with its own cookie jar and User-Agent.
func (f *riskFixture) browser(t *testing.T, ua string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: uaRoundTripper(ua)}
}

type uaRoundTripper string

func (ua uaRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(ua))
	if r.Method == http.MethodPost {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// login logs c in through the account pages and returns the last response.
func (f *riskFixture) login(t *testing.T, c *http.Client) *http.Response {
	t.Helper()
	resp, err := c.Get(f.srv.URL + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err = c.PostForm(f.srv.URL+"/login", url.Values{"authRequestID": {id}, "member_number": {testNumber}, "password": {testPass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (f *riskFixture) deviceCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(f.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == risk.CookieName {
			return ck
		}
	}
	return nil
}

// TestRiskLoginHook: a login sets the device cookie, ties the session to
// the device and records login.succeeded with it; newEnvironment then says
// known for that browser and new for others.
func TestRiskLoginHook(t *testing.T) {
	f := newRiskFixture(t, false)
	a := f.browser(t, uaChrome)
	if resp := f.login(t, a); resp.Request.URL.Path != "/account" || resp.StatusCode != http.StatusOK {
		t.Fatalf("login ended %d at %s", resp.StatusCode, resp.Request.URL)
	}
	dc := f.deviceCookie(a)
	if dc == nil || !risk.ValidCookie(dc.Value) {
		t.Fatalf("no device cookie after login: %v", dc)
	}
	devs, err := f.st.ListDevices(t.Context(), f.member.ID)
	if err != nil || len(devs) != 1 || devs[0].Browser != "Chrome" {
		t.Fatalf("devices after login: %+v, %v", devs, err)
	}
	sessions, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID})
	if len(sessions) != 1 || sessions[0].DeviceID != devs[0].ID {
		t.Errorf("session not tied to the device: %+v", sessions)
	}
	evs, _ := f.st.ListEvents(t.Context(), f.member.ID, 10)
	types := map[string]int{}
	for _, e := range evs {
		types[e.Type]++
		if e.Type == audit.EventLoginSucceeded && (e.Method != "pwd" || e.DeviceID != devs[0].ID || e.ClientID != AccountClientID) {
			t.Errorf("login event %+v", e)
		}
	}
	if types[audit.EventLoginSucceeded] != 1 || types[audit.EventPasswordVerified] != 1 {
		t.Errorf("events %v: want one login.succeeded and one login.password_verified", types)
	}

	for _, tt := range []struct {
		name   string
		cookie string
		ua     string
		want   bool
	}{
		{"known browser", dc.Value, uaChrome, false},
		{"known cookie, other browser family", dc.Value, uaFirefox, true},
		{"no cookie", "", uaChrome, true},
		{"cookie never seen", risk.NewDeviceCookie(), uaChrome, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("User-Agent", tt.ua)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: risk.CookieName, Value: tt.cookie})
			}
			got, err := f.ui.newEnvironment(t.Context(), r, f.member.ID)
			if err != nil || got != tt.want {
				t.Errorf("newEnvironment = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	off := &UI{}
	if got, err := off.newEnvironment(t.Context(), httptest.NewRequest("GET", "/", nil), f.member.ID); got || err != nil {
		t.Errorf("without the risk feature newEnvironment = %v, %v; want false", got, err)
	}
	if err := off.appLinked(t.Context(), httptest.NewRequest("GET", "/", nil), f.member, "app", "App"); err != nil {
		t.Errorf("appLinked without the risk feature: %v", err)
	}
}

// TestRiskLoginFailsClosed: when the login cannot be recorded (and so its
// alert cannot be queued), the login fails rather than passing unseen.
func TestRiskLoginFailsClosed(t *testing.T) {
	f := newRiskFixture(t, true)
	resp := f.login(t, f.browser(t, uaChrome))
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("login with failing storage: status %d at %s, want 500", resp.StatusCode, resp.Request.URL)
	}
	if n, _ := f.st.ListSessions(t.Context(), storage.SessionFilter{MemberID: f.member.ID}); len(n) != 0 {
		t.Errorf("%d sessions established by a login that was not recorded", len(n))
	}
}

func TestLoginMethod(t *testing.T) {
	for _, tt := range []struct {
		amr  []string
		want string
	}{
		{[]string{"pwd"}, "pwd"},
		{[]string{"pin"}, "pin"},
		{[]string{"pwd", "otp", "mfa"}, "pwd+otp"},
		{[]string{"pin", "sms", "mfa"}, "pin+otp"},
		{[]string{"hwk", "user"}, "passkey"},
		{[]string{"swk"}, "passkey"},
		{[]string{"otp"}, "otp"},
		{nil, ""},
	} {
		if got := loginMethod(tt.amr); got != tt.want {
			t.Errorf("loginMethod(%v) = %q, want %q", tt.amr, got, tt.want)
		}
	}
}

func TestSecurityPageText(t *testing.T) {
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	f := &riskFeature{RiskOptions: RiskOptions{Location: time.FixedZone("JST", 9*3600)}, cat: cat}
	at := time.Date(2025, 6, 30, 15, 4, 0, 0, time.UTC)
	iphone := risk.DescribeDevice("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
	for _, tt := range []struct {
		lang, when, method, device, browser, unknown string
	}{
		{"ja", "2025年7月1日 00:04", "パスワード + ワンタイムパスワード", "iPhone · iOS 17.5 (スマートフォン)", "Safari 17.5", "不明 (種類不明)"},
		{"en", "1 Jul 2025 00:04", "Password + One-time password", "iPhone · iOS 17.5 (smartphone)", "Safari 17.5", "Unknown (unknown type)"},
	} {
		p := page{Lang: tt.lang, cat: cat}
		for _, c := range []struct{ got, want string }{
			{f.when(tt.lang, at), tt.when},
			{p.methodName("pwd+otp"), tt.method},
			{p.deviceName(iphone), tt.device},
			{p.browserName(iphone), tt.browser},
			{p.deviceName(storage.Device{}), tt.unknown},
			{p.methodName(""), "-"},
			{p.methodName("hwk"), "hwk"},
			{truncateUA(strings.Repeat("あ", 200)), strings.Repeat("あ", 170)},
		} {
			if c.got != c.want {
				t.Errorf("%s: got %q, want %q", tt.lang, c.got, c.want)
			}
		}
	}
}
