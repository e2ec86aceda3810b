package attack

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// The device grant (RFC 8628) attacked: guessing user codes, polling
// faster than allowed, redeeming another client's device_code, redeeming
// one twice, forging the confirmation from another site, framing the
// confirmation page.

// deviceAttackYAML: a 1 s interval, and entry limits small enough to
// reach: 10 codes per address, 15 in all, per 10 minutes.
const deviceAttackYAML = "device:\n  interval: 1s\n  max_entries_per_address: 10\n  max_entries_global: 15\n"

const userCodeLetters = "BCDFGHJKLMNPQRSTVWXZ"

// randomUserCode is a well-formed user code, almost surely not a live one.
func randomUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = userCodeLetters[int(b[i])%len(userCodeLetters)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// startDevice starts a server with the member, the television client and
// its device authorization.
func startDevice(t *testing.T, extra string) (*e2e.Server, string, string) {
	t.Helper()
	s := e2e.StartWithMember(t, e2e.Options{Extra: deviceAttackYAML + extra})
	e2e.AddDeviceClient(t, s, "tv", "Lounge TV")
	_, cfg := e2e.DeviceApp(t, s, "tv")
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s, da.UserCode, da.DeviceCode
}

// enterUserCode posts a user code at /device from b, with XFF as
// X-Forwarded-For when set; it returns the status.
func enterUserCode(t *testing.T, s *e2e.Server, b *e2e.Browser, code, xff string) int {
	t.Helper()
	req := e2e.NewFormRequest(t.Context(), s.Issuer+"/device", url.Values{"user_code": {code}}.Encode())
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return b.Send(t, req).Status
}

// TestAttackDeviceUserCodeBruteForce: one attacker guessing user codes
// gets 10 answers, then only 429, whatever X-Forwarded-For it sends (no
// proxy is trusted) and even for the right code; the member's own entry
// from another address still works.
func TestAttackDeviceUserCodeBruteForce(t *testing.T) {
	s, userCode, _ := startDevice(t, "")
	attacker := e2e.NewBrowser(t, s)
	answered, throttled := 0, 0
	for i := range 30 {
		xff := ""
		if i%2 == 1 {
			xff = "192.0.2." + string(rune('1'+i%9)) // spoofed: must not open a new budget
		}
		switch st := enterUserCode(t, s, attacker, randomUserCode(), xff); st {
		case http.StatusBadRequest:
			answered++
		case http.StatusTooManyRequests:
			throttled++
		default:
			t.Fatalf("guess %d: status %d", i, st)
		}
	}
	if answered != 10 || throttled != 20 {
		t.Fatalf("30 guesses: %d answered, %d throttled; want 10 and 20", answered, throttled)
	}
	if st := enterUserCode(t, s, attacker, userCode, ""); st != http.StatusTooManyRequests {
		t.Errorf("the right code after the limit: %d, want 429 (the limit comes before the lookup)", st)
	}
}

// TestAttackDeviceUserCodeBruteForceManyAddresses: behind a trusted proxy
// an attacker spreads guesses over many client addresses; the global limit
// bounds them all together (15 answers in all).
func TestAttackDeviceUserCodeBruteForceManyAddresses(t *testing.T) {
	s, _, _ := startDevice(t, "trusted_proxies: [127.0.0.1]\n")
	attacker := e2e.NewBrowser(t, s)
	answered := 0
	for i := range 40 {
		addr := "198.51.100." + string(rune('1'+i%8)) // 8 addresses, 5 guesses each
		if enterUserCode(t, s, attacker, randomUserCode(), addr) == http.StatusBadRequest {
			answered++
		}
	}
	if answered != 15 {
		t.Fatalf("40 guesses over 8 addresses: %d answered, want 15 (the global limit)", answered)
	}
}

// TestAttackDevicePollingFasterThanInterval: a device hammering the token
// endpoint gets slow_down every time, each adding 5 s to its interval.
func TestAttackDevicePollingFasterThanInterval(t *testing.T) {
	s, _, deviceCode := startDevice(t, "")
	slow := 0
	for range 5 {
		if _, body := e2e.DevicePoll(t, s, "tv", "", deviceCode); body["error"] == "slow_down" {
			slow++
		}
	}
	if slow != 5 {
		t.Fatalf("5 polls at once: %d slow_down, want 5", slow)
	}
	_, body := e2e.DevicePoll(t, s, "tv", "", deviceCode)
	if desc, _ := body["error_description"].(string); body["error"] != "slow_down" || !strings.Contains(desc, "31 seconds") {
		t.Errorf("the sixth poll: %v, want slow_down asking for 31 seconds", body)
	}
}

// approve has the member approve userCode in a fresh browser.
func approve(t *testing.T, s *e2e.Server, userCode string) {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	login := e2e.EnterUserCode(t, b, s, userCode)
	consent := b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if done := e2e.AnswerConsent(t, b, consent, "approve"); done.Status != http.StatusOK {
		t.Fatalf("approving: %d\n%s", done.Status, done.Body)
	}
}

// TestAttackDeviceCodeOfAnotherClient: a confidential client presenting
// the television's device_code gets invalid_grant, before and after the
// approval, and changes nothing: the television still redeems it.
func TestAttackDeviceCodeOfAnotherClient(t *testing.T) {
	s, userCode, deviceCode := startDevice(t, "")
	out := s.CLI(t, false, "client", "add", "--id", "thief", "--grant-type", e2e.DeviceGrantType)
	_, rest, ok := strings.Cut(out, "Client secret: ")
	secret, _, _ := strings.Cut(rest, "\n")
	if !ok || secret == "" {
		t.Fatalf("no secret in:\n%s", out)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, body := e2e.DevicePoll(t, s, "thief", secret, deviceCode); body["error"] != "invalid_grant" {
		t.Fatalf("another client's poll while pending: %v, want invalid_grant", body)
	}
	approve(t, s, userCode)
	if _, body := e2e.DevicePoll(t, s, "thief", secret, deviceCode); body["error"] != "invalid_grant" || body["access_token"] != nil {
		t.Fatalf("another client's poll once approved: %v, want invalid_grant", body)
	}
	if status, body := e2e.DevicePoll(t, s, "tv", "", deviceCode); status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("the television's own poll: %d %v, want its tokens", status, body)
	}
}

// TestAttackDeviceCodeRedeemedTwice: an approved device_code polled 10
// times at once by its own client mints tokens once; the user code is
// refused to another browser afterwards.
func TestAttackDeviceCodeRedeemedTwice(t *testing.T) {
	s, userCode, deviceCode := startDevice(t, "")
	approve(t, s, userCode)
	time.Sleep(1100 * time.Millisecond)
	var mu sync.Mutex
	won, used := 0, 0
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, body := e2e.DevicePoll(t, s, "tv", "", deviceCode)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case body["access_token"] != nil:
				won++
			case body["error"] == "invalid_grant" || body["error"] == "slow_down":
				used++
			}
		})
	}
	wg.Wait()
	if won != 1 || used != 9 {
		t.Fatalf("10 concurrent redemptions: %d got tokens, %d refused; want 1 and 9", won, used)
	}
	if st := enterUserCode(t, s, e2e.NewBrowser(t, s), userCode, ""); st != http.StatusBadRequest {
		t.Errorf("the approved user code in another browser: %d, want 400", st)
	}
}

// TestAttackDeviceConfirmCrossSite: a site making the member's browser
// post the confirmation (the phished "one tap") is refused by the
// Fetch-Metadata guard; the pages cannot be framed either.
func TestAttackDeviceConfirmCrossSite(t *testing.T) {
	s, userCode, _ := startDevice(t, "")
	b := e2e.NewBrowser(t, s)
	for _, path := range []string{"/device", "/device/confirm"} {
		req := e2e.NewFormRequest(t.Context(), s.Issuer+path, url.Values{"user_code": {userCode}}.Encode())
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if p := b.Send(t, req); p.Status != http.StatusForbidden || p.Location != "" {
			t.Errorf("a cross-site post to %s: %d (Location %q), want 403", path, p.Status, p.Location)
		}
	}
	form := b.Get(t, s.Issuer+"/device?user_code="+userCode)
	confirm := b.Post(t, form.URL, "/device", url.Values{"user_code": {userCode}})
	for name, p := range map[string]e2e.Page{"code form": form, "confirmation": confirm} {
		csp := p.Header.Get("Content-Security-Policy")
		if p.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: X-Frame-Options %q, CSP %q: frameable", name, p.Header.Get("X-Frame-Options"), csp)
		}
	}
	if !strings.Contains(confirm.Body, "Lounge TV") || strings.Contains(form.Body, "Lounge TV") {
		t.Error("the client is named before the member submitted the code, or not on the confirmation")
	}
}

// TestAttackDeviceAuthorizationFlood: anyone knowing a public device
// client's id could store grants without end; one address gets its
// max_authorizations_per_address (5 here), then 429 slow_down.
func TestAttackDeviceAuthorizationFlood(t *testing.T) {
	s2 := e2e.Start(t, e2e.Options{Extra: "device:\n  max_authorizations_per_address: 5\n"})
	e2e.AddDeviceClient(t, s2, "tv", "Lounge TV")
	ok, limited := 0, 0
	for range 12 {
		req := e2e.NewFormRequest(t.Context(), s2.Issuer+"/device_authorization", url.Values{"client_id": {"tv"}, "scope": {"openid"}}.Encode())
		p := e2e.NewBrowser(t, s2).Send(t, req)
		switch {
		case p.Status == http.StatusOK && strings.Contains(p.Body, "device_code"):
			ok++
		case p.Status == http.StatusTooManyRequests && strings.Contains(p.Body, "slow_down") && p.Header.Get("Retry-After") != "":
			limited++
		default:
			t.Fatalf("device authorization: %d %s", p.Status, p.Body)
		}
	}
	if ok != 5 || limited != 7 {
		t.Fatalf("12 device authorizations from one address: %d stored, %d refused; want 5 and 7", ok, limited)
	}
}
