package attack

import (
	"crypto/rand"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// An attacker holding an IPv6 /64 (what any subscriber, cloud VM or
// mobile phone gets) sends every request from another address of it, to
// get a fresh per-address budget each time. The tests play it behind a
// trusted proxy: the client connects from 127.0.0.1, listed in
// trusted_proxies, and names its address in X-Forwarded-For, as a load
// balancer in front of the server would. Every per-address limit must
// count the whole /64 as one client (limits.ipv6_prefix, 64 by default),
// leave a client in another /64 alone, and treat IPv4 clients as before.

// ipv6ProxyYAML trusts the test clients' forwarding header.
const ipv6ProxyYAML = "trusted_proxies: [127.0.0.1]\n"

// The attacker's network, and another subscriber's next to it.
var (
	attackerNet  = netip.MustParsePrefix("2001:db8:6:1::/64")
	neighbourNet = netip.MustParsePrefix("2001:db8:6:2::/64")
)

// addrIn is a random address of the network p (a /64): the attacker
// rotates its 64 host bits with every request.
func addrIn(t *testing.T, p netip.Prefix) string {
	t.Helper()
	b := p.Addr().As16()
	if _, err := rand.Read(b[8:]); err != nil {
		t.Fatal(err)
	}
	a := netip.AddrFrom16(b)
	if !p.Contains(a) {
		t.Fatalf("%v is not in %v", a, p)
	}
	return a.String()
}

// xff says the request comes from addr (through the trusted proxy).
func xff(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// TestAttackIPv6AddressRotationWithinOne64AtLogin: the attacker fails
// logins (wrong passwords on numbers of its choice, so that no member
// lockout stops it) from a new address of its /64 every time. After
// lockout.per_ip_max_failures failures the /64 gets 429, whatever address
// it comes from next, exactly as one IPv4 address does; a member in the
// next /64 logs in, and the history shows full addresses, not networks.
func TestAttackIPv6AddressRotationWithinOne64AtLogin(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: ipv6ProxyYAML + "lockout:\n  per_ip_max_failures: 5\n"})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	attacker := e2e.NewBrowser(t, s)

	first := addrIn(t, attackerNet)
	if p := guessWithHeaders(t, s, attacker, rp, e2e.MemberNumber, "Wrong-pass-2026", xff(first)); p.Status != http.StatusUnauthorized {
		t.Fatalf("failure 1: status %d, want 401", p.Status)
	}
	if ip := newestEventIP(t, s, "login.failed"); ip != first {
		t.Errorf("the failure was recorded from %q, want the full address %s (only limit keys aggregate)", ip, first)
	}
	for i := 2; i <= 5; i++ {
		if p := guessWithHeaders(t, s, attacker, rp, strconv.Itoa(3100000+i), "Wrong-pass-2026", xff(addrIn(t, attackerNet))); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i, p.Status)
		}
	}
	if p := guessWithHeaders(t, s, attacker, rp, "3100099", "Wrong-pass-2026", xff(addrIn(t, attackerNet))); p.Status != http.StatusTooManyRequests {
		t.Errorf("a sixth guess from yet another address of the /64: status %d, want 429 (rotating the host bits escaped the per-address limit)", p.Status)
	}
	// The limit is the network's: the right password from it waits too.
	if p := guessWithHeaders(t, s, e2e.NewBrowser(t, s), rp, e2e.MemberNumber, e2e.MemberPass, xff(addrIn(t, attackerNet))); p.Status != http.StatusTooManyRequests {
		t.Errorf("a login from the spent /64: status %d, want 429", p.Status)
	}

	member := addrIn(t, neighbourNet)
	if p := guessWithHeaders(t, s, e2e.NewBrowser(t, s), rp, e2e.MemberNumber, e2e.MemberPass, xff(member)); p.Location == "" {
		t.Fatalf("the member from the next /64: status %d, want the redirect with a code", p.Status)
	}
	if ip := newestEventIP(t, s, "login.succeeded"); ip != member {
		t.Errorf("the login was recorded from %q, want the full address %s", ip, member)
	}

	// IPv4 as before: one address is one budget, its neighbour has its
	// own, and its IPv4-mapped form is the same address.
	for i := range 5 {
		if p := guessWithHeaders(t, s, attacker, rp, strconv.Itoa(3200000+i), "Wrong-pass-2026", xff("192.0.2.7")); p.Status != http.StatusUnauthorized {
			t.Fatalf("IPv4 failure %d: status %d, want 401", i+1, p.Status)
		}
	}
	for _, a := range []string{"192.0.2.7", "::ffff:192.0.2.7"} {
		if p := guessWithHeaders(t, s, attacker, rp, "3200099", "Wrong-pass-2026", xff(a)); p.Status != http.StatusTooManyRequests {
			t.Errorf("a sixth IPv4 guess as %s: status %d, want 429", a, p.Status)
		}
	}
	if p := guessWithHeaders(t, s, attacker, rp, "3200098", "Wrong-pass-2026", xff("192.0.2.8")); p.Status != http.StatusUnauthorized {
		t.Errorf("the next IPv4 address: status %d, want 401 (IPv4 addresses count apart)", p.Status)
	}
}

// TestAttackIPv6AddressRotationWithinOne64ForOTPSends: the attacker asks
// for password reset codes for one member after another (mail bombing,
// or SMS pumping where the code goes by SMS), each from a new address of
// its /64. Past otp.resend_per_hour sends the /64 gets no more codes sent;
// the same request from the next /64, or from an IPv4 client, is sent.
func TestAttackIPv6AddressRotationWithinOne64ForOTPSends(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: ipv6ProxyYAML + "otp:\n  resend_per_hour: 3\n"})
	numbers := []string{"5000001", "5000002", "5000003", "5000004", "5000005"}
	for _, n := range numbers {
		s.CLI(t, false, "member", "create", "--number", n, "--password", "Umi-Yama-2026", "--family-name", "青木",
			"--email", "m"+n+"@example.com", "--country", "JP", "--locale", "ja")
	}
	for i, n := range numbers[:3] {
		if got := requestReset(t, s, smtp, n, addrIn(t, attackerNet)); got != "sent" {
			t.Fatalf("reset %d from the /64: %s, want sent", i+1, got)
		}
	}
	if got := requestReset(t, s, smtp, numbers[3], addrIn(t, attackerNet)); got != "throttled" {
		t.Errorf("a fourth reset from yet another address of the /64: %s, want throttled (rotating the host bits escaped the per-address limit)", got)
	}
	if got := requestReset(t, s, smtp, numbers[3], addrIn(t, neighbourNet)); got != "sent" {
		t.Errorf("the same reset from the next /64: %s, want sent", got)
	}
	if got := requestReset(t, s, smtp, numbers[4], "192.0.2.9"); got != "sent" {
		t.Errorf("a reset from an IPv4 client: %s, want sent", got)
	}
}

// requestReset asks for a reset code for number from addr and waits for
// the outcome: "sent" when the code mail reaches the member, "throttled"
// when the server logs that a wait held it back. Resets send after the
// answer, so the outcome is awaited, not read from the page (which says
// the same either way, so as not to tell whether the number exists).
func requestReset(t *testing.T, s *e2e.Server, smtp *notifytest.SMTPServer, number, addr string) string {
	t.Helper()
	held := func() int { return strings.Count(s.Output(), "otp.error.resend_wait") }
	before := held()
	b := e2e.NewBrowser(t, s)
	form := b.Get(t, s.Issuer+"/login/reset")
	req := e2e.NewFormRequest(t.Context(), s.Issuer+"/login/reset", url.Values{"member_number": {number}}.Encode())
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	if p := b.Send(t, req); p.Status != http.StatusSeeOther && !strings.HasSuffix(p.URL.Path, "/login/reset/code") {
		t.Fatalf("reset of %s (form at %s): status %d at %s", number, form.URL, p.Status, p.URL)
	}
	to := "m" + number + "@example.com"
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if slices.ContainsFunc(e2e.CodeMails(smtp), func(m notifytest.ReceivedMail) bool { return slices.Contains(m.To, to) }) {
			return "sent"
		}
		if held() > before {
			return "throttled"
		}
	}
	t.Fatalf("reset of %s from %s: neither a mail nor a held send within 20 s\n%s", number, addr, s.Output())
	return ""
}

// TestAttackIPv6AddressRotationWithinOne64AtDeviceCodeEntry: guessing
// device user codes at /device from a new address of the /64 each time
// stops at device.max_entries_per_address, as from one address; the next
// /64 and an IPv4 client still get answers.
func TestAttackIPv6AddressRotationWithinOne64AtDeviceCodeEntry(t *testing.T) {
	s, _, _ := startDevice(t, ipv6ProxyYAML)
	attacker := e2e.NewBrowser(t, s)
	for i := range 10 {
		if st := enterUserCode(t, s, attacker, randomUserCode(), addrIn(t, attackerNet)); st != http.StatusBadRequest {
			t.Fatalf("guess %d: status %d, want 400", i+1, st)
		}
	}
	if st := enterUserCode(t, s, attacker, randomUserCode(), addrIn(t, attackerNet)); st != http.StatusTooManyRequests {
		t.Errorf("an eleventh guess from yet another address of the /64: status %d, want 429 (rotating the host bits escaped the per-address limit)", st)
	}
	if st := enterUserCode(t, s, e2e.NewBrowser(t, s), randomUserCode(), addrIn(t, neighbourNet)); st != http.StatusBadRequest {
		t.Errorf("a code from the next /64: status %d, want 400 (an answer)", st)
	}
	if st := enterUserCode(t, s, e2e.NewBrowser(t, s), randomUserCode(), "192.0.2.1"); st != http.StatusBadRequest {
		t.Errorf("a code from an IPv4 client: status %d, want 400 (an answer)", st)
	}
}

// TestAttackIPv6AddressRotationWithinOne64AtDeviceAuthorization: filling
// the store with device grants of a public client, from a new address of
// the /64 each time, stops at device.max_authorizations_per_address with
// 429 slow_down; the next /64 is not held up.
func TestAttackIPv6AddressRotationWithinOne64AtDeviceAuthorization(t *testing.T) {
	s, _, _ := startDevice(t, "  max_authorizations_per_address: 3\n"+ipv6ProxyYAML) // continues device:
	authorize := func(addr string) int {
		req := e2e.NewFormRequest(t.Context(), s.Issuer+"/device_authorization", url.Values{"client_id": {"tv"}, "scope": {"openid"}}.Encode())
		req.Header.Set("X-Forwarded-For", addr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 3 {
		if st := authorize(addrIn(t, attackerNet)); st != http.StatusOK {
			t.Fatalf("authorization %d: status %d, want 200", i+1, st)
		}
	}
	if st := authorize(addrIn(t, attackerNet)); st != http.StatusTooManyRequests {
		t.Errorf("a fourth authorization from yet another address of the /64: status %d, want 429 (rotating the host bits escaped the per-address limit)", st)
	}
	if st := authorize(addrIn(t, neighbourNet)); st != http.StatusOK {
		t.Errorf("an authorization from the next /64: status %d, want 200", st)
	}
}

// TestAttackIPv6NetworkRotationWithinConfiguredPrefix: where subscribers
// get a /48, the operator sets limits.ipv6_prefix: 48, and an attacker
// rotating through the /64s of its /48 is counted as one client; the next
// /48 is not.
func TestAttackIPv6NetworkRotationWithinConfiguredPrefix(t *testing.T) {
	s, _, _ := startDevice(t, ipv6ProxyYAML+"limits:\n  ipv6_prefix: 48\n")
	attacker := e2e.NewBrowser(t, s)
	for i := range 11 {
		// Each guess from a random address of another /64 of 2001:db8:6::/48.
		sub := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 6, 0, byte(i + 1)}), 64)
		want := http.StatusBadRequest
		if i == 10 {
			want = http.StatusTooManyRequests
		}
		if st := enterUserCode(t, s, attacker, randomUserCode(), addrIn(t, sub)); st != want {
			t.Fatalf("guess %d from %v: status %d, want %d", i+1, sub, st, want)
		}
	}
	if st := enterUserCode(t, s, e2e.NewBrowser(t, s), randomUserCode(), "2001:db8:7::1"); st != http.StatusBadRequest {
		t.Errorf("a code from the next /48: status %d, want 400 (an answer)", st)
	}
}
