package attack

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// Conformance issue, item 5: an operator removes a relying party, or
// rotates its secret, because the secret leaked or the app is gone. The
// admin path used to write the database behind the provider's client
// cache, so for up to the cache's lifetime the removed client, or the old
// secret, kept working at the token endpoint, and a token minted in that
// window outlived the removal. Removal and rotation must take effect on the
// very next request (on several replicas, within
// storage.postgres.revocation_delay on every one: Settle). A client
// removed must also take its members' consents with it: a new client
// registered later under the same id must not find them granted.

var secretLine = regexp.MustCompile(`(?m)^Client secret: (\S+)$`)

// addClient adds a client through the CLI (the running server's admin
// socket) and returns its secret.
func addClient(t *testing.T, s *e2e.Server, args ...string) string {
	t.Helper()
	out := s.CLI(t, false, append([]string{"client", "add"}, args...)...)
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	return m[1]
}

// clientCredentials asks the token endpoint for a client_credentials token
// with HTTP Basic authentication and returns the status and the error code.
func clientCredentials(t *testing.T, s *e2e.Server, id, secret string) (int, string) {
	t.Helper()
	resp := e2e.ClientPost(t, s.Issuer+"/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	code := ""
	if m := regexp.MustCompile(`"error":"([a-z_]+)"`).FindSubmatch(b); m != nil {
		code = string(m[1])
	}
	return resp.StatusCode, code
}

// RemovedClientKeepsMintingTokens: the app's operator holds its
// secret, a member's access and refresh tokens, and has just used the
// token endpoint (so the server has the client at hand). The client is
// removed; every one of those must stop working on the next request.
func RemovedClientKeepsMintingTokens(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{Extra: "otp:\n  on_login: never\n"})
	secret := addClient(t, s, "--id", "partner", "--redirect-uri", s.Issuer+"/rp/callback",
		"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--grant-type", "client_credentials")
	rp := e2e.NewRP(t, s, "partner", secret, oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess)
	tok := e2e.LoginRP(t, rp, e2e.NewBrowser(t, s))
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token to hold")
	}
	if status, _ := clientCredentials(t, s, "partner", secret); status != http.StatusOK {
		t.Fatalf("client_credentials before the removal: %d", status)
	}

	s.CLI(t, false, "client", "remove", "partner")
	s.Settle()

	if status, code := clientCredentials(t, s, "partner", secret); status != http.StatusUnauthorized || code != "invalid_client" {
		t.Errorf("the removed client's secret at the token endpoint: %d %s, want 401 invalid_client", status, code)
	}
	if _, err := e2e.Refresh(t, rp, tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_client") {
		t.Errorf("refresh by the removed client: %v, want invalid_client", err)
	}
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("an access token minted before the removal still works at userinfo")
	}
	resp := e2e.ClientPost(t, s.Issuer+"/oauth/introspect", "partner", secret, url.Values{"token": {tok.AccessToken}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("introspection by the removed client: %d, want 401", resp.StatusCode)
	}
}

// RotatedSecretStillWorks: the secret leaked and was rotated; the
// one who holds the old secret has just used it. The old secret must be
// refused on the next request, the new one must work.
func RotatedSecretStillWorks(t *testing.T, d e2e.Deployment) {
	s := d.Start(t, e2e.Options{})
	old := addClient(t, s, "--id", "reports", "--grant-type", "client_credentials")
	if status, _ := clientCredentials(t, s, "reports", old); status != http.StatusOK {
		t.Fatalf("client_credentials with the first secret: %d", status)
	}

	out := s.CLI(t, false, "client", "rotate-secret", "reports")
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rotate-secret showed no secret:\n%s", out)
	}
	s.Settle()

	if status, code := clientCredentials(t, s, "reports", old); status != http.StatusUnauthorized || code != "invalid_client" {
		t.Errorf("the old secret right after the rotation: %d %s, want 401 invalid_client", status, code)
	}
	if status, _ := clientCredentials(t, s, "reports", m[1]); status != http.StatusOK {
		t.Errorf("the new secret: %d", status)
	}
}

// ReaddedClientInheritsConsent: a member allowed a third-party
// app; the app is removed, and another app is later registered under the
// same id. The member must be asked again, not find the new app already
// allowed to read their profile.
func ReaddedClientInheritsConsent(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{Extra: "otp:\n  on_login: never\n"})
	add := func() *e2e.RP {
		secret := addClient(t, s, "--id", "partner", "--name", "Partner", "--third-party", "--redirect-uri", s.Issuer+"/rp/callback")
		s.Settle() // every replica forgets the removed client of this id
		return e2e.NewRP(t, s, "partner", secret, oidc.ScopeOpenID, "profile")
	}
	rp := add()
	b := e2e.NewBrowser(t, s)
	f := e2e.NewFlow()
	p := loginAt(t, b, rp.AuthURL(f))
	if p.URL.Path != "/login/consent" {
		t.Fatalf("first login to the third party: %d at %s, want the consent page", p.Status, p.URL)
	}
	e2e.MustExchange(t, rp, f, e2e.Callback(t, b.Post(t, p.URL, "/login/consent",
		url.Values{"authRequestID": {p.AuthRequestID(t)}, "action": {"approve"}})))

	s.CLI(t, false, "client", "remove", "partner")
	rp = add()

	f = e2e.NewFlow()
	p = loginAt(t, e2e.NewBrowser(t, s), rp.AuthURL(f))
	if p.URL.Path != "/login/consent" || p.Location != "" {
		t.Errorf("login to the new client of the same id: %d at %s (location %q), want the consent page",
			p.Status, p.URL, p.Location)
	}
}

// loginAt logs the member in with a password and returns what follows.
func loginAt(t *testing.T, b *e2e.Browser, authURL string) e2e.Page {
	t.Helper()
	p := b.Get(t, authURL)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("login page: %d at %s", p.Status, p.URL)
	}
	return b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
}
