package attack

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Attacks on a native app's redirect URIs (RFC 8252): another app that
// wants the programme app's codes sends the browser to /authorize with a
// redirect URI it can receive. The app is registered as the RFC says: a
// private-use scheme and loopback redirects without a port, which match
// any port (§7.3) and nothing else.

const milesApp = `  - id: miles-app
    public: true
    name: Miles app
    redirect_uris:
      - com.example.miles:/callback
      - http://127.0.0.1/callback
      - http://[::1]/callback
  - id: copycat
    public: true
    name: Copycat app
    redirect_uris:
      - com.example.copycat:/callback
`

// authorizeAnswer is /authorize's first answer to a code request with
// PKCE, as an app's browser tab gets it.
func authorizeAnswer(t *testing.T, s *e2e.Server, clientID, redirect string) e2e.Page {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"scope": {"openid"}, "state": {"st"}, "code_challenge_method": {"S256"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}}
	return firstAnswer(t, s.Issuer+"/authorize?"+q.Encode())
}

// refusedHere checks the answer is the error page: no redirect anywhere.
func refusedHere(t *testing.T, p e2e.Page, what string) {
	t.Helper()
	if p.Location != "" || p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "<html") {
		t.Errorf("%s: status %d, Location %q; want the error page and no redirect", what, p.Status, p.Location)
	}
}

// TestAttackAnotherClientUsesNativeAppRedirect: a client other than the
// app (another app, the website) asks for a code with the app's redirect
// URI, its private-use scheme or its loopback one on any port: refused on
// the error page, never redirected, so the code cannot be sent where the
// other client's app would pick it up. Registering the app's URI for
// another client is refused too, by client add, naming the owner.
func TestAttackAnotherClientUsesNativeAppRedirect(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: milesApp})
	port := e2e.FreePort(t)
	for _, client := range []string{"copycat", "web", "spa"} {
		for _, uri := range []string{"com.example.miles:/callback", fmt.Sprintf("http://127.0.0.1:%d/callback", port), "http://127.0.0.1/callback"} {
			refusedHere(t, authorizeAnswer(t, s, client, uri), client+" with "+uri)
		}
	}
	// The app itself is served: the same URIs work for it.
	if p := authorizeAnswer(t, s, "miles-app", fmt.Sprintf("http://127.0.0.1:%d/callback", port)); p.Location == "" || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("the app's own loopback redirect: status %d, Location %q; want the login page", p.Status, p.Location)
	}
	for _, uri := range []string{"com.example.miles:/callback", "http://127.0.0.1/callback"} {
		out := s.CLI(t, true, "client", "add", "--id", "thief", "--public", "--name", "Thief", "--redirect-uri", uri)
		if !strings.Contains(out, `"miles-app"`) {
			t.Errorf("client add with the app's %s: refused without naming its owner:\n%s", uri, out)
		}
	}
	if out := s.CLI(t, false, "client", "list"); strings.Contains(out, "thief") {
		t.Errorf("a client with the app's redirect URI was stored:\n%s", out)
	}
}

// TestAttackNativeAppLoopbackPathChanged: the port of a loopback redirect
// is free, nothing else is. Another path, a longer or shorter one, a query
// or fragment added, dot segments, an encoded slash, https instead of
// http, or userinfo smuggled before the port: each is refused on the
// error page, since another program on the machine could serve it.
func TestAttackNativeAppLoopbackPathChanged(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: milesApp})
	port := e2e.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for name, uri := range map[string]string{
		"other path":       base + "/evil",
		"longer path":      base + "/callback/evil",
		"shorter path":     base + "/call",
		"trailing slash":   base + "/callback/",
		"query added":      base + "/callback?next=evil",
		"fragment":         base + "/callback#x",
		"dot segments":     base + "/x/../callback",
		"encoded slash":    base + "%2Fcallback",
		"https":            fmt.Sprintf("https://127.0.0.1:%d/callback", port),
		"userinfo":         fmt.Sprintf("http://127.0.0.1:%d@evil.example/callback", port),
		"port zero":        "http://127.0.0.1:0/callback",
		"other loopback":   fmt.Sprintf("http://127.0.0.2:%d/callback", port),
		"v4 path on v6":    fmt.Sprintf("http://[::1]:%d/callbackx", port),
		"port and a label": fmt.Sprintf("http://127.0.0.1:%d.evil.example/callback", port),
	} {
		t.Run(name, func(t *testing.T) { refusedHere(t, authorizeAnswer(t, s, "miles-app", uri), uri) })
	}
}

// TestAttackNativeAppLocalhostForLoopback: localhost in place of the
// registered 127.0.0.1 or [::1] is refused at /authorize, on any port or
// none (RFC 8252 §8.3: the name may resolve elsewhere, and op would have
// taken it as a loopback host), and config and client add refuse to
// register a loopback redirect without a port by that name.
func TestAttackNativeAppLocalhostForLoopback(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: milesApp})
	for _, uri := range []string{
		fmt.Sprintf("http://localhost:%d/callback", e2e.FreePort(t)),
		"http://localhost/callback",
		fmt.Sprintf("http://LOCALHOST:%d/callback", e2e.FreePort(t)),
	} {
		refusedHere(t, authorizeAnswer(t, s, "miles-app", uri), uri)
	}
	out := s.CLI(t, true, "client", "add", "--id", "local-app", "--public", "--name", "Local", "--redirect-uri", "http://localhost/callback")
	if !strings.Contains(out, "http://127.0.0.1/callback") {
		t.Errorf("client add with localhost: refused without saying what to register instead:\n%s", out)
	}
	bad := e2e.Configure(t, e2e.Options{Extra: "  - id: local-app\n    public: true\n    redirect_uris: [http://localhost/callback]\n"})
	// The key path names the client added last, after the harness's own.
	if out := bad.CLI(t, true, "client", "list"); !regexp.MustCompile(`clients\[\d+\]\.redirect_uris\[0\]: `).MatchString(out) || !strings.Contains(out, "not localhost") {
		t.Errorf("config with a localhost loopback redirect: not refused at its key path:\n%s", out)
	}
}
