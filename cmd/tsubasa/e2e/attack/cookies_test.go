package attack

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// What a session cookie must resist: script on a page (HttpOnly), another
// site's requests (SameSite=Lax), a sibling host of the issuer reading or
// planting cookies (no Domain; __Host- on https, which browsers let no
// other host set), and a network attacker on plain http (Secure, and HSTS
// so the browser never tries http again).

// setCookies records every Set-Cookie a browser is sent, redirects
// included, and the Strict-Transport-Security of every answer over https
// (pages, redirects and the OAuth answers alike: the first answer a member
// gets may be a relying party's redirect through /authorize).
type setCookies struct {
	base http.RoundTripper
	mu   sync.Mutex
	got  []*http.Cookie
	raw  []string
	hsts map[string]string // "status method path" of an https answer → its Strict-Transport-Security
}

func (c *setCookies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, resp.Cookies()...)
	c.raw = append(c.raw, resp.Header.Values("Set-Cookie")...)
	if req.URL.Scheme == "https" {
		c.hsts[fmt.Sprintf("%d %s %s", resp.StatusCode, req.Method, req.URL.Path)] = resp.Header.Get("Strict-Transport-Security")
	}
	return resp, nil
}

// recordCookies makes b's requests go through base and records what
// comes back.
func recordCookies(b *e2e.Browser, base http.RoundTripper) *setCookies {
	c := &setCookies{base: base, hsts: map[string]string{}}
	b.Transport = c
	return c
}

// startBehindTLS starts a server whose issuer is https: a TLS-terminating
// reverse proxy (httptest's, with its own certificate for 127.0.0.1)
// serves the issuer's URL and forwards to the server's plain listener,
// as a load balancer in front of a deployment does; the issuer is set
// with TSUBASA_ISSUER, which config reads like any key. It returns the
// server (whose Issuer field is the plain listener the harness checks
// readiness on), the https issuer, and a transport that trusts the proxy.
func startBehindTLS(t *testing.T, o e2e.Options) (*e2e.Server, string, http.RoundTripper) {
	t.Helper()
	o.Port = e2e.FreePort(t)
	target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", o.Port))
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}})
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	o.Env = append(o.Env, "TSUBASA_ISSUER="+proxy.URL)
	return e2e.StartWithMember(t, o), proxy.URL, proxy.Client().Transport
}

// authorizeURL is a plain code request of the first-party client to the
// issuer (the redirect URI registered for it in the harness's config).
func authorizeURL(issuer string, s *e2e.Server) string {
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {s.Issuer + "/rp/callback"},
		"scope": {"openid"}, "state": {"cookie-state"}, "nonce": {"n"}}
	return issuer + "/authorize?" + q.Encode()
}

// loginThrough logs number in at issuer in b and opens the account page
// in English (which sets the language cookie); it returns that page.
func loginThrough(t *testing.T, s *e2e.Server, b *e2e.Browser, issuer, number, password string) e2e.Page {
	t.Helper()
	p := b.Get(t, authorizeURL(issuer, s))
	cb := e2e.Callback(t, b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {number}, "password": {password}}))
	if cb.Query().Get("code") == "" {
		t.Fatalf("login through %s: callback %s", issuer, cb)
	}
	account := b.Get(t, issuer+"/account?lang=en")
	if account.URL.Path != "/account" || account.Status != http.StatusOK {
		t.Fatalf("the account page after the login: %d at %s", account.Status, account.URL)
	}
	return account
}

// checkCookies checks every cookie the server set: HttpOnly, SameSite=Lax,
// host-only (no Domain), Path=/, and on https Secure, with the session's
// and the device's named __Host-. It returns the cookies by name.
func checkCookies(t *testing.T, c *setCookies, https bool) map[string]*http.Cookie {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	byName := map[string]*http.Cookie{}
	for i, ck := range c.got {
		byName[ck.Name] = ck
		raw := c.raw[i]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" || ck.Path != "/" {
			t.Errorf("Set-Cookie %q: want HttpOnly, SameSite=Lax, no Domain and Path=/", raw)
		}
		if https && !ck.Secure {
			t.Errorf("Set-Cookie %q on an https issuer: want Secure", raw)
		}
	}
	session, device := "tsubasa_session", "tsubasa_device"
	if https {
		session, device = "__Host-"+session, "__Host-"+device
	}
	for _, name := range []string{session, device, "tsubasa_lang"} {
		if byName[name] == nil {
			t.Errorf("no %s cookie was set (got %q)", name, c.raw)
		}
	}
	return byName
}

// TestAttackSessionCookieFlags checks the cookies a login sets, on the
// harness's http issuer (loopback, which config allows for development)
// and on an https issuer behind a TLS-terminating proxy, and plays a
// sibling host's cookie tossing on the https one: the attacker plants
// their own logged-in session under the cookie's name without the
// __Host- prefix (all a host of a parent domain can set), and the victim's
// browser must not be logged in as the attacker. HSTS is sent on every
// page of the https issuer. (That the session id changes at login is
// TestAttackSessionFixation.)
func TestAttackSessionCookieFlags(t *testing.T) {
	t.Run("http issuer on loopback", func(t *testing.T) {
		s := e2e.StartWithMember(t, e2e.Options{})
		b := e2e.NewBrowser(t, s)
		c := recordCookies(b, http.DefaultTransport)
		loginThrough(t, s, b, s.Issuer, e2e.MemberNumber, e2e.MemberPass)
		for _, ck := range checkCookies(t, c, false) {
			if strings.HasPrefix(ck.Name, "__Host-") {
				t.Errorf("cookie %s on an http issuer: browsers drop a __Host- cookie without Secure", ck.Name)
			}
		}
	})

	t.Run("https issuer behind a TLS proxy", func(t *testing.T) {
		s, issuer, tlsTransport := startBehindTLS(t, e2e.Options{})
		s.CLI(t, false, "member", "create", "--number", "7400001", "--password", "Kuro-Neko-2026", "--family-name", "黒田")
		b := e2e.NewBrowser(t, s)
		c := recordCookies(b, tlsTransport)
		loginThrough(t, s, b, issuer, e2e.MemberNumber, e2e.MemberPass)
		checkCookies(t, c, true)
		c.mu.Lock()
		for answer, hsts := range c.hsts {
			if age := hstsMaxAge(hsts); age < 365*24*3600 {
				t.Errorf("answer %s: Strict-Transport-Security %q, want a max-age of a year or more", answer, hsts)
			}
		}
		var authorize bool
		for answer := range c.hsts {
			authorize = authorize || strings.HasSuffix(answer, " GET /authorize")
		}
		if len(c.hsts) < 3 || !authorize {
			t.Errorf("HSTS checked on %v; want /authorize's redirect, the login and the account pages", c.hsts)
		}
		c.mu.Unlock()

		// Cookie tossing: the attacker's own session, planted in the
		// victim's browser under the unprefixed name.
		attacker := e2e.NewBrowser(t, s)
		ac := recordCookies(attacker, tlsTransport)
		loginThrough(t, s, attacker, issuer, "7400001", "Kuro-Neko-2026")
		planted := checkCookies(t, ac, true)
		victim := e2e.NewBrowser(t, s)
		victim.Transport = tlsTransport
		u, _ := url.Parse(issuer)
		victim.Jar.SetCookies(u, []*http.Cookie{{Name: "tsubasa_session", Value: planted["__Host-tsubasa_session"].Value, Path: "/"}})
		if p := victim.Get(t, issuer+"/account"); p.URL.Path == "/account" {
			t.Errorf("a session planted without the __Host- prefix logs the victim in: %d at %s", p.Status, p.URL)
		}
	})
}

// hstsMaxAge is the max-age of a Strict-Transport-Security value, or -1.
func hstsMaxAge(v string) int {
	for _, d := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(strings.TrimSpace(d), "="); ok && strings.EqualFold(k, "max-age") {
			if n, err := strconv.Atoi(strings.Trim(val, `"`)); err == nil {
				return n
			}
		}
	}
	return -1
}
