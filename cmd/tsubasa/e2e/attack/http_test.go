package attack

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on the hosted pages and on the HTTP server itself.

// TestAttackCrossSiteFormPosts: the login forms refuse a post another site
// makes the browser send, whether the browser says so with Origin or with
// Sec-Fetch-Site.
func TestAttackCrossSiteFormPosts(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	for name, hdr := range map[string]map[string]string{
		"Origin":         {"Origin": "https://evil.example"},
		"Sec-Fetch-Site": {"Sec-Fetch-Site": "cross-site"},
		"both":           {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		"null Origin":    {"Origin": "null"},
	} {
		for _, action := range []string{"/login", "/login/password"} {
			b := e2e.NewBrowser(t, s)
			p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
			form := url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass},
				"new_password": {"Kumo-Sora-77"}, "confirm_password": {"Kumo-Sora-77"}}
			req := e2e.NewFormRequest(t.Context(), s.Issuer+action, form.Encode())
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			if res := b.Send(t, req); res.Status != http.StatusForbidden || res.Location != "" {
				t.Errorf("%s: cross-site POST %s: status %d, Location %q; want 403", name, action, res.Status, res.Location)
			}
		}
	}
}

// TestAttackSessionFixation: a session cookie planted before the login
// (here: one the attacker obtained from the login page) is not the one the
// login establishes, and it gives the attacker nothing afterwards.
func TestAttackSessionFixation(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	attacker := e2e.NewBrowser(t, s)
	attacker.Get(t, rp.AuthURL(e2e.NewFlow()))
	planted := sessionCookieOf(t, s, attacker)
	if planted == "" {
		t.Fatal("the login page set no session cookie to plant")
	}
	victim := e2e.NewBrowser(t, s)
	u, _ := url.Parse(s.Issuer)
	victim.Jar.SetCookies(u, []*http.Cookie{{Name: "tsubasa_session", Value: planted, Path: "/"}})
	f := e2e.NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f, e2e.Login(t, victim, rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)); err != nil {
		t.Fatal(err)
	}
	if after := sessionCookieOf(t, s, victim); after == "" || after == planted {
		t.Fatalf("session cookie after login %q, planted %q: the id must be regenerated", after, planted)
	}
	cb := e2e.Callback(t, attacker.Get(t, rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("code") != "" {
		t.Errorf("the planted cookie logs the attacker in as the victim: %s", cb)
	}
}

func sessionCookieOf(t *testing.T, s *e2e.Server, b *e2e.Browser) string {
	t.Helper()
	u, _ := url.Parse(s.Issuer)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == "tsubasa_session" {
			return c.Value
		}
	}
	return ""
}

// TestAttackClickjacking: no hosted page may be framed by another site.
func TestAttackClickjacking(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	b := e2e.NewBrowser(t, s)
	login := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {"https://evil.example/cb"}, "scope": {"openid"}}
	pages := map[string]string{
		"login":            login.URL.String(),
		"authorize error":  s.Issuer + "/authorize?" + q.Encode(),
		"logged out":       s.Issuer + "/logged-out",
		"account (redir.)": s.Issuer + "/account",
	}
	for name, u := range pages {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s (%s): Content-Security-Policy %q lacks frame-ancestors 'none'", name, u, csp)
		}
		if xfo := resp.Header.Get("X-Frame-Options"); !strings.EqualFold(xfo, "DENY") {
			t.Errorf("%s (%s): X-Frame-Options %q, want DENY", name, u, xfo)
		}
	}
}

// TestAttackOversizedRequests: a body over 1 MiB is refused (413 or 400)
// wherever it is posted, a header block over 32 KiB gets 431, and the
// server serves on.
func TestAttackOversizedRequests(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	big := "x=" + strings.Repeat("a", 2<<20)
	for _, path := range []string{"/login", "/oauth/token", "/end_session", "/oauth/introspect", "/revoke", "/authorize"} {
		req := e2e.NewFormRequest(t.Context(), s.Issuer+path, big)
		req.Header.Set("Origin", s.Issuer)
		req.SetBasicAuth("web", "web-secret-0123456789")
		status, err := e2e.RawStatus(req)
		switch {
		case err != nil && cutByServer(err):
			// The server answered and closed before the client had sent
			// everything; the client saw the close first. Still refused.
		case err != nil:
			t.Errorf("POST %s with 2 MiB: %v", path, err)
		case status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest:
			t.Errorf("POST %s with 2 MiB: status %d, want 413 or 400", path, status)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Issuer+"/login", nil)
	req.Header.Set("X-Padding", strings.Repeat("h", 40<<10))
	if status, err := e2e.RawStatus(req); err != nil || status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("40 KiB of headers: status %d, %v; want 431", status, err)
	}
	e2e.RequireServing(t, s)
}

func cutByServer(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}

// TestAttackSlowHeaders: a client that trickles its request headers (a
// byte every 250ms) is cut off once the server's ReadHeaderTimeout (5s)
// has passed, instead of holding a connection for ever. The wait is
// bounded at 12s.
func TestAttackSlowHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the server's header timeout; skipped with -short")
	}
	s := e2e.StartWithMember(t, e2e.Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.Issuer, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, conn) // returns when the server closes
		closed <- err
	}()
	request := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("s", 100) + "\r\n\r\n"
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(12 * time.Second)
	for i := 0; ; i++ {
		select {
		case err := <-closed:
			if err != nil && !errors.Is(err, net.ErrClosed) && !cutByServer(err) {
				t.Logf("read after the cut: %v", err)
			}
			e2e.RequireServing(t, s)
			return
		case <-deadline:
			t.Fatal("a client trickling its headers still held its connection after 12s")
		case <-tick.C:
			if i < len(request)-4 { // never finish the header block
				if _, err := conn.Write([]byte{request[i]}); err != nil {
					e2e.RequireServing(t, s)
					return // cut while writing
				}
			}
		}
	}
}
