package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Helpers for the crash, backup, attack and fault suites: SIGKILL and
// restart on the same data, the CLI without failing the test, and a browser
// that reports errors instead of failing the test, for use from goroutines
// while the server may die under them.

// portNumber is the server's TCP port (from its issuer).
func (s *Server) portNumber(t *testing.T) int {
	t.Helper()
	u, err := url.Parse(s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var p int
	if _, err := fmt.Sscan(u.Port(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// sigkill ends the server with SIGKILL (no shutdown, no final commit) and
// waits for the process to be gone.
func (s *Server) sigkill(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after SIGKILL")
	}
}

// restartOnSameData starts a new server on the data and port of s, which must have
// stopped, with the options o otherwise.
func restartOnSameData(t *testing.T, s *Server, o Options) *Server {
	t.Helper()
	o.Dir, o.Port = s.Dir, s.portNumber(t)
	return Start(t, o)
}

// runTsubasa runs a subcommand with s's config and returns its combined
// output and exit code (-1 when it could not run or timed out).
func runTsubasa(ctx context.Context, s *Server, args ...string) (string, int) {
	return s.TryCLI(ctx, args...)
}

// liveBrowser is a browser for goroutines: it returns errors rather than
// failing the test, and bounds every request.
type liveBrowser struct {
	c      *http.Client
	jar    *cookiejar.Jar
	stopAt string
}

func newLiveBrowser(s *Server) *liveBrowser {
	jar, _ := cookiejar.New(nil) // never fails without options
	b := &liveBrowser{jar: jar, stopAt: s.Issuer + "/rp/"}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.stopAt) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// login runs a password login and returns the callback URL the relying
// party receives.
func (b *liveBrowser) login(ctx context.Context, authURL, number, password string) (*url.URL, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	m := hiddenRe.FindStringSubmatch(string(body))
	if m == nil {
		return nil, fmt.Errorf("no login page: status %d at %s", resp.StatusCode, resp.Request.URL)
	}
	page := resp.Request.URL
	form := url.Values{"authRequestID": {m[1]}, "member_number": {number}, "password": {password}}
	target := page.ResolveReference(&url.URL{Path: "/login"})
	req = NewFormRequest(ctx, target.String(), form.Encode())
	req.Header.Set("Origin", page.Scheme+"://"+page.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = b.c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, b.stopAt) {
		return nil, fmt.Errorf("login answered %d at %s, not a redirect to the relying party", resp.StatusCode, resp.Request.URL)
	}
	return url.Parse(loc)
}

// hasCookie reports whether the browser holds a cookie named name for the
// server.
func (b *liveBrowser) hasCookie(s *Server, name string) bool {
	u, _ := url.Parse(s.Issuer)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return true
		}
	}
	return false
}
