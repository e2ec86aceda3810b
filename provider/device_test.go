package provider

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

func TestNormaliseUserCode(t *testing.T) {
	for in, want := range map[string]string{
		"BCDF-GHJK":              "BCDFGHJK",
		"bcdfghjk":               "BCDFGHJK",
		" bcdf ghjk ":            "BCDFGHJK",
		"ＢＣＤＦ－ＧＨＪＫ":              "BCDFGHJK", // full-width, as a Japanese keyboard types it
		"bcdfーghjk":              "BCDFGHJK", // the long vowel mark an IME gives for a hyphen
		"BCDF-GHJ":               "",         // too short
		"BCDF-GHJKL":             "",         // too long
		"ABCD-GHJK":              "",         // a vowel is never in a code
		"BCD0-GHJK":              "",         // nor a digit
		"BCDF_GHJK":              "",
		strings.Repeat("B", 100): "",
	} {
		got, ok := normaliseUserCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("normaliseUserCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestNewUserCode: codes are 8 letters of the alphabet, every letter
// turns up, and they read back through normalisation.
func TestNewUserCode(t *testing.T) {
	seen := map[rune]bool{}
	for range 500 {
		c := newUserCode()
		if n, ok := normaliseUserCode(displayUserCode(c)); !ok || n != c || len(c) != userCodeLen {
			t.Fatalf("code %q does not read back (%q, %v)", c, n, ok)
		}
		for _, r := range c {
			seen[r] = true
		}
	}
	if len(seen) != len(userCodeAlphabet) {
		t.Errorf("500 codes used %d letters of %d", len(seen), len(userCodeAlphabet))
	}
}

func newDeviceEnv(t *testing.T) *wireEnv {
	t.Helper()
	return newWireEnvWith(t, func(o *Options) {
		o.Clients = append(o.Clients, storage.Client{ID: "tv", Public: true,
			GrantTypes: []string{GrantDeviceCode, GrantRefreshToken}, Scopes: []string{"openid", "profile", ScopeMembership, "offline_access"}})
		o.DeviceInterval = 5 * time.Second
	})
}

// authorizeDevice starts a device authorization for tv.
func authorizeDevice(t *testing.T, e *wireEnv, scope string) deviceAuthResponse {
	t.Helper()
	rec := e.post("/device_authorization", url.Values{"client_id": {"tv"}, "scope": {scope}}, "", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("device authorization: %d %s (Cache-Control %q)", rec.Code, rec.Body, rec.Header().Get("Cache-Control"))
	}
	var da deviceAuthResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &da); err != nil {
		t.Fatal(err)
	}
	return da
}

func (e *wireEnv) poll(t *testing.T, deviceCode string) map[string]any {
	t.Helper()
	return decode(t, e.post("/oauth/token", url.Values{"grant_type": {GrantDeviceCode}, "client_id": {"tv"}, "device_code": {deviceCode}}, "", ""))
}

// decide records the member's answer as the login UI does.
func (e *wireEnv) decide(t *testing.T, userCode string, status storage.DeviceGrantStatus) {
	t.Helper()
	key, _, ok := e.p.DeviceUserCode(userCode)
	if !ok {
		t.Fatalf("user code %q", userCode)
	}
	g, err := e.st.DeviceGrantByUserCode(t.Context(), key, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.st.UpdateDeviceGrant(t.Context(), g.ID, e.clock.Now(), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
		g.Status, g.MemberID, g.ACR, g.AMR, g.AuthTime, g.DecidedAt = status, e.member.ID, "urn:tsubasa:acr:pwd", []string{"pwd"}, e.clock.Now(), e.clock.Now()
		g.SessionID, g.MemberStamp = "sess-1", e.member.SecurityStamp
		return g, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeviceGrantLifecycle: pending, slow_down for an early poll, the
// tokens once approved (an ID token with the member's claims, a refresh
// token for offline_access), then invalid_grant.
func TestDeviceGrantLifecycle(t *testing.T) {
	e := newDeviceEnv(t)
	da := authorizeDevice(t, e, "openid membership offline_access")
	if da.Interval != 5 || da.ExpiresIn != 600 || da.VerificationURI != wireIssuer+"/device" ||
		da.VerificationURIComplete != wireIssuer+"/device?user_code="+da.UserCode || len(da.UserCode) != 9 {
		t.Fatalf("answer %+v", da)
	}
	if got := e.poll(t, da.DeviceCode); got["error"] != "slow_down" {
		t.Fatalf("a poll at once: %v, want slow_down", got)
	}
	e.clock.Advance(10 * time.Second) // the interval is 10 s now
	if got := e.poll(t, da.DeviceCode); got["error"] != "authorization_pending" {
		t.Fatalf("a poll after the interval: %v, want authorization_pending", got)
	}
	e.decide(t, da.UserCode, storage.DeviceApproved)
	e.clock.Advance(10 * time.Second)
	got := e.poll(t, da.DeviceCode)
	if got["access_token"] == nil || got["id_token"] == nil || got["refresh_token"] == nil {
		t.Fatalf("the approved poll: %v, want access, ID and refresh tokens", got)
	}
	e.clock.Advance(10 * time.Second)
	if got := e.poll(t, da.DeviceCode); got["error"] != "invalid_grant" {
		t.Fatalf("the redeemed code again: %v, want invalid_grant", got)
	}
}

// TestDeviceGrantRefusals: declined, expired (before and after the
// janitor), unknown, and approved before a credential change.
func TestDeviceGrantRefusals(t *testing.T) {
	e := newDeviceEnv(t)
	denied, expired, changed := authorizeDevice(t, e, "openid"), authorizeDevice(t, e, "openid"), authorizeDevice(t, e, "openid")
	e.decide(t, denied.UserCode, storage.DeviceDenied)
	e.decide(t, changed.UserCode, storage.DeviceApproved)
	if err := e.st.UpdateMember(t.Context(), e.member.ID, func(m storage.Member) (storage.Member, error) {
		m.SecurityStamp = "stamp-2"
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(6 * time.Second)
	if got := e.poll(t, denied.DeviceCode); got["error"] != "access_denied" {
		t.Errorf("declined: %v", got)
	}
	if got := e.poll(t, changed.DeviceCode); got["error"] != "invalid_grant" || got["access_token"] != nil {
		t.Errorf("approved before a credential change: %v, want invalid_grant", got)
	}
	if got := e.poll(t, "dc1_nonsense"); got["error"] != "invalid_grant" {
		t.Errorf("unknown: %v", got)
	}
	e.clock.Advance(10 * time.Minute)
	if got := e.poll(t, expired.DeviceCode); got["error"] != "expired_token" {
		t.Errorf("expired: %v", got)
	}
	if _, err := e.st.DeleteExpired(t.Context(), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := e.poll(t, expired.DeviceCode); got["error"] != "expired_token" {
		t.Errorf("expired and removed: %v", got)
	}
}

// TestDeviceAuthorizationErrors: the endpoint's refusals are RFC 6749
// JSON errors with a description, never cached.
func TestDeviceAuthorizationErrors(t *testing.T) {
	e := newDeviceEnv(t)
	for name, tc := range map[string]struct {
		form       url.Values
		id, secret string
		code       string
	}{
		"no openid":        {url.Values{"client_id": {"tv"}, "scope": {"profile"}}, "", "", "invalid_scope"},
		"a service scope":  {url.Values{"client_id": {"tv"}, "scope": {"openid telephone"}}, "", "", "invalid_scope"},
		"no device grant":  {url.Values{"scope": {"openid"}}, "web", wireSecret, "unauthorized_client"},
		"unknown client":   {url.Values{"client_id": {"nobody"}, "scope": {"openid"}}, "", "", "invalid_client"},
		"a repeated scope": {url.Values{"client_id": {"tv"}, "scope": {"openid", "openid"}}, "", "", "invalid_request"},
		"a wrong secret":   {url.Values{"scope": {"openid"}}, "web", "wrong", "invalid_client"},
	} {
		rec := e.post("/device_authorization", tc.form, tc.id, tc.secret)
		got := decode(t, rec)
		if got["error"] != tc.code || got["error_description"] == "" || rec.Header().Get("Cache-Control") != "no-store" || rec.Code < 400 {
			t.Errorf("%s: %d %v (Cache-Control %q), want %s", name, rec.Code, got, rec.Header().Get("Cache-Control"), tc.code)
		}
	}
	rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/device_authorization", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("GET: %d", rec.Code)
	}
}

// TestDeviceAuthorizationLimit: an address's device authorizations stop
// at the limit with 429 slow_down and Retry-After, uncached, and come
// back as the window slides; another address is not held up.
func TestDeviceAuthorizationLimit(t *testing.T) {
	addr := "192.0.2.1"
	e := newWireEnvWith(t, func(o *Options) {
		o.Clients = append(o.Clients, storage.Client{ID: "tv", Public: true, GrantTypes: []string{GrantDeviceCode}, Scopes: []string{"openid"}})
		o.DeviceMaxPerAddress, o.DeviceWindow = 3, 10*time.Minute
		o.ClientAddr = func(*http.Request) string { return addr }
	})
	post := func() *httptest.ResponseRecorder {
		return e.post("/device_authorization", url.Values{"client_id": {"tv"}, "scope": {"openid"}}, "", "")
	}
	for i := range 3 {
		if rec := post(); rec.Code != http.StatusOK {
			t.Fatalf("authorization %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := post()
	if got := decode(t, rec); rec.Code != http.StatusTooManyRequests || got["error"] != "slow_down" ||
		rec.Header().Get("Retry-After") != "600" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("the fourth: %d %v Retry-After %q", rec.Code, got, rec.Header().Get("Retry-After"))
	}
	addr = "192.0.2.2"
	if rec := post(); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d", rec.Code)
	}
	addr = "192.0.2.1"
	e.clock.Advance(10*time.Minute + time.Second)
	if rec := post(); rec.Code != http.StatusOK {
		t.Fatalf("after the window: %d", rec.Code)
	}
}

// TestDeviceAuthorizationLimitPerIPv6Network: the addresses of one IPv6
// network (Options.IPv6Prefix) share one count; the next network and an
// IPv4 client do not.
func TestDeviceAuthorizationLimitPerIPv6Network(t *testing.T) {
	addr := ""
	e := newWireEnvWith(t, func(o *Options) {
		o.Clients = append(o.Clients, storage.Client{ID: "tv", Public: true, GrantTypes: []string{GrantDeviceCode}, Scopes: []string{"openid"}})
		o.DeviceMaxPerAddress, o.DeviceWindow, o.IPv6Prefix = 3, 10*time.Minute, 56
		o.ClientAddr = func(*http.Request) string { return addr }
	})
	post := func(from string) int {
		addr = from
		return e.post("/device_authorization", url.Values{"client_id": {"tv"}, "scope": {"openid"}}, "", "").Code
	}
	for _, a := range []string{"2001:db8:1:200::1", "2001:db8:1:2ff::1", "2001:db8:1:201:ffff::1"} {
		if code := post(a); code != http.StatusOK {
			t.Fatalf("authorization from %s: %d", a, code)
		}
	}
	if code := post("2001:db8:1:2aa::9"); code != http.StatusTooManyRequests {
		t.Errorf("a fourth address of the /56: %d, want 429", code)
	}
	if code := post("2001:db8:1:300::1"); code != http.StatusOK {
		t.Errorf("the next /56: %d", code)
	}
	if code := post("192.0.2.1"); code != http.StatusOK {
		t.Errorf("an IPv4 client: %d", code)
	}
}
