package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// Who is who on the loopback network of these tests: the server listens
// on 127.0.0.1, the load balancer (a real reverse proxy) is 127.0.0.2 and
// listed in trusted_proxies, and each client connects from an address of
// its own.
const (
	lbAddr       = "127.0.0.2"
	attackerAddr = "127.0.0.10"
	memberAddr   = "127.0.0.11"
)

// proxyConfig trusts the load balancer and keeps the per-address budget
// small.
const proxyConfig = "trusted_proxies: [" + lbAddr + "]\nlockout:\n  per_ip_max_failures: 5\n"

// dialFrom dials from the local address from: to the address asked for,
// or always to `to` when it is set (a client whose traffic goes through a
// load balancer in front of the issuer's host name).
func dialFrom(from, to string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to != "" {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
}

// startLoadBalancer runs a reverse proxy on lbAddr that forwards to s from
// lbAddr and appends the address it got the request from to
// X-Forwarded-For, keeping what the client sent before it, as cloud load
// balancers do. Like them it passes a client's Forwarded header through
// untouched. It returns the proxy's address.
func startLoadBalancer(t *testing.T, s *e2e.Server) string {
	t.Helper()
	target, err := url.Parse(s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.Out.Header["X-Forwarded-For"] = r.In.Header["X-Forwarded-For"]
			r.Out.Header["Forwarded"] = r.In.Header["Forwarded"]
			r.SetXForwarded()
		},
		Transport: &http.Transport{DialContext: dialFrom(lbAddr, "")},
	}
	ln, err := net.Listen("tcp", lbAddr+":0")
	if err != nil {
		t.Skipf("cannot listen on %s (the tests need the whole 127.0.0.0/8 on loopback): %v", lbAddr, err)
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// clientAt is a browser whose connections come from the address from,
// straight to the server, or through the load balancer lb when set.
func clientAt(t *testing.T, s *e2e.Server, from, lb string) *e2e.Browser {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	b.Transport = &http.Transport{DialContext: dialFrom(from, lb)}
	return b
}

// spoofHeaders claim that attempt i comes from an address of its own,
// trusted or not, in every way a client can write it.
func spoofHeaders(i int) http.Header {
	ip := fmt.Sprintf("198.51.100.%d", i%250+1)
	return http.Header{
		"X-Forwarded-For": {ip + ", " + lbAddr},
		"Forwarded":       {"for=" + ip + ", for=" + lbAddr},
		"X-Real-Ip":       {ip},
	}
}

// guessWithHeaders opens a login page in b and posts number and secret with
// extra headers, as one guess of a brute force.
func guessWithHeaders(t *testing.T, s *e2e.Server, b *e2e.Browser, rp *e2e.RP, number, secret string, hdr http.Header) e2e.Page {
	t.Helper()
	p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	form := url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {secret}}
	req := e2e.NewFormRequest(t.Context(), s.Issuer+"/login", form.Encode())
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return e2e.PageOf(resp)
}

// exhaustAddress fails logins on unknown numbers from b, each claiming
// another address, until the per-address limit of 5 answers 429; it
// fails the test if more failures pass.
func exhaustAddress(t *testing.T, s *e2e.Server, b *e2e.Browser, rp *e2e.RP, first int) {
	t.Helper()
	for i := range 6 {
		p := guessWithHeaders(t, s, b, rp, fmt.Sprint(3100000+first+i), "Wrong-pass-2026", spoofHeaders(first+i))
		switch p.Status {
		case http.StatusTooManyRequests:
			return
		case http.StatusUnauthorized:
		default:
			t.Fatalf("failure %d: status %d, want 401 or 429", i+1, p.Status)
		}
	}
	t.Fatal("six failures from one address, each claiming another in its headers, and no 429: the limit is 5")
}

// newestEventIP is the address of the test member's newest audit event
// of type typ ("" when there is none).
func newestEventIP(t *testing.T, s *e2e.Server, typ string) string {
	t.Helper()
	var out struct {
		Events []struct {
			Type string `json:"type"`
			IP   string `json:"ip"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(s.CLI(t, false, "events", "--member", e2e.MemberNumber, "--json")), &out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Events { // newest first
		if e.Type == typ {
			return e.IP
		}
	}
	return ""
}

// TestAttackSpoofedForwardingHeadersFromUntrustedPeer: a client that
// connects straight to the server (not through the trusted load balancer)
// writes X-Forwarded-For, Forwarded and X-Real-IP, even naming the load
// balancer as the last hop, to get a fresh per-address budget with every
// guess and to put someone else's address in the member's history. The
// headers are ignored: it is limited as the address it connects from,
// and the history shows that address.
func TestAttackSpoofedForwardingHeadersFromUntrustedPeer(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: proxyConfig})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	attacker := clientAt(t, s, attackerAddr, "")

	// The member's history names the address a guess came from.
	if p := guessWithHeaders(t, s, attacker, rp, e2e.MemberNumber, "Wrong-pass-2026", spoofHeaders(0)); p.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", p.Status)
	}
	if ip := newestEventIP(t, s, "login.failed"); ip != attackerAddr {
		t.Errorf("the guess was recorded from %q, want %s (the peer, not a header)", ip, attackerAddr)
	}
	exhaustAddress(t, s, attacker, rp, 10)
	// A fresh browser on the same address, claiming to be the load balancer.
	again := clientAt(t, s, attackerAddr, "")
	hdr := http.Header{"X-Forwarded-For": {lbAddr}, "Forwarded": {"for=" + lbAddr}}
	if p := guessWithHeaders(t, s, again, rp, e2e.MemberNumber, e2e.MemberPass, hdr); p.Status != http.StatusTooManyRequests {
		t.Errorf("limited address claiming to be the load balancer: status %d, want 429", p.Status)
	}
	// Another address is not limited by this one.
	other := clientAt(t, s, memberAddr, "")
	if p := guessWithHeaders(t, s, other, rp, e2e.MemberNumber, e2e.MemberPass, nil); p.Location == "" {
		t.Errorf("the member from another address: status %d, want the redirect with a code", p.Status)
	}
}

// TestAttackOneClientLocksOutEveryoneBehindLoadBalancer: behind a load
// balancer every connection comes from the balancer. An attacker fails
// logins through it until its per-address budget is spent, writing its own
// X-Forwarded-For and Forwarded entries (which the balancer keeps, left of
// the one it appends) to escape the limit. The attacker is limited alone;
// the member, through the same balancer, logs in, and the history, the
// devices page and the alert show the member's own address, not the
// balancer's.
func TestAttackOneClientLocksOutEveryoneBehindLoadBalancer(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: proxyConfig})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	lb := startLoadBalancer(t, s)

	exhaustAddress(t, s, clientAt(t, s, attackerAddr, lb), rp, 0)

	member := clientAt(t, s, memberAddr, lb)
	f := e2e.NewFlow()
	p := member.Get(t, rp.AuthURL(f))
	res := member.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if res.Location == "" {
		t.Fatalf("the member through the same load balancer: status %d, want the redirect with a code (one client's failures locked out another)", res.Status)
	}
	e2e.MustExchange(t, rp, f, e2e.Callback(t, res))

	if ip := newestEventIP(t, s, "login.succeeded"); ip != memberAddr {
		t.Errorf("the login was recorded from %q, want %s", ip, memberAddr)
	}
	alert := smtp.WaitFor(t, func(m notifytest.ReceivedMail) bool {
		return strings.Contains(m.Text, "[IP address] ")
	}, 30*time.Second)
	if !strings.Contains(alert.Text, "[IP address] "+memberAddr+"\r\n") && !strings.Contains(alert.Text, "[IP address] "+memberAddr+"\n") {
		t.Errorf("the alert names another address than %s:\n%s", memberAddr, alert.Text)
	}
	for _, path := range []string{"/account/history", "/account/devices"} {
		page := steppedUpAccountPage(t, s, smtp, member, path)
		if !strings.Contains(page.Body, "<dd>"+memberAddr+"</dd>") || strings.Contains(page.Body, "<dd>"+lbAddr+"</dd>") {
			t.Errorf("%s does not show the member's address %s (or shows the load balancer's):\n%s", path, memberAddr, page.Body)
		}
	}
}

// steppedUpAccountPage opens an account page that takes a one-time
// password, giving the password and the mailed code as the member would.
func steppedUpAccountPage(t *testing.T, s *e2e.Server, smtp *notifytest.SMTPServer, b *e2e.Browser, path string) e2e.Page {
	t.Helper()
	codes := len(e2e.CodeMails(smtp))
	p := b.Get(t, s.Issuer+path)
	if p.URL.Path == "/login" {
		p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
			"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	}
	if p.URL.Path == "/login/otp" {
		_, code := e2e.MailCode(t, smtp, codes+1)
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
	}
	if p.Status != http.StatusOK || p.URL.Path != path {
		t.Fatalf("%s: status %d at %s\n%s", path, p.Status, p.URL, p.Body)
	}
	return p
}
