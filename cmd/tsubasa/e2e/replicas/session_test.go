package replicas

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

var cliSecretRe = regexp.MustCompile(`(?m)^Client secret: (\S+)$`)

// addClient adds a client through the CLI (which opens the database
// itself) and returns its secret.
func addClient(t *testing.T, s *e2e.Server, args ...string) string {
	t.Helper()
	out := s.CLI(t, false, append([]string{"client", "add"}, args...)...)
	m := cliSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	return m[1]
}

// decide answers consent page p with action.
func decide(t *testing.T, b *e2e.Browser, p e2e.Page, action string) *url.URL {
	t.Helper()
	return e2e.Callback(t, b.Post(t, p.URL, "/login/consent", url.Values{"authRequestID": {p.AuthRequestID(t)}, "action": {action}}))
}

// TestReplicasThirdPartyConsent: a third-party app the CLI registered
// while the replicas run; the member logs in, the consent page comes from
// one replica and the approval goes to another; the app gets a pairwise
// subject of its own; the stored consent answers the next login on any
// replica without asking, and prompt=none for a wider scope answers
// consent_required.
func TestReplicasThirdPartyConsent(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	secret := addClient(t, c.Server, "--id", "partner", "--name", "Partner", "--third-party", "--redirect-uri", c.Issuer+"/rp/callback")
	app := e2e.NewRP(t, c.Server, "partner", secret, oidc.ScopeOpenID, "profile")
	web := e2e.NewRP(t, c.Server, "web", e2e.WebSecret)
	b, seen := browserFrom(t, c.Server, "127.0.0.6")

	f := e2e.NewFlow()
	_, idWeb := e2e.MustExchange(t, web, f, e2e.Login(t, b, web.AuthURL(f), e2e.MemberNumber, e2e.MemberPass))
	seen.all()
	f = e2e.NewFlow()
	p := b.Get(t, app.AuthURL(f))
	if p.Status != http.StatusOK || p.URL.Path != "/login/consent" {
		t.Fatalf("first login to the third party: %d at %s, want the consent page", p.Status, p.URL)
	}
	_, idApp := e2e.MustExchange(t, app, f, decide(t, b, p, "approve"))
	mustRotate(t, "the consent's requests", seen.all(), 3)
	if idApp.Subject == idWeb.Subject {
		t.Errorf("the third party got the public subject %s, want a pairwise one", idWeb.Subject)
	}

	for i := range len(c.Replicas) { // the next authorizations land on each replica
		f = e2e.NewFlow()
		_, again := e2e.MustExchange(t, app, f, e2e.Callback(t, b.Get(t, app.AuthURL(f))))
		if again.Subject != idApp.Subject {
			t.Errorf("login %d after consent: subject %s, want %s", i+2, again.Subject, idApp.Subject)
		}
	}
	wider := *app
	wider.OAuth.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	if cb := e2e.Callback(t, b.Get(t, wider.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none")))); cb.Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none with a scope not consented to: %s, want consent_required", cb)
	}
}

var logoutIDRe = regexp.MustCompile(`name="logout_id" value="([^"]*)"`)

// loggedOutEverywhere checks that b's SSO session is over on every
// replica: three prompt=none requests in a row (one to a replica) answer
// login_required.
func loggedOutEverywhere(t *testing.T, rp *e2e.RP, b *e2e.Browser) {
	t.Helper()
	for i := range 3 {
		cb := e2e.Callback(t, b.Get(t, rp.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
		if e := cb.Query().Get("error"); e != "login_required" {
			t.Errorf("prompt=none %d after logout: %s, want login_required", i+1, cb)
		}
	}
}

// TestReplicasLogout: RP-initiated logout through the proxy. With this
// session's id_token_hint the member is logged out at once and sent back
// with state; without a hint the question comes from one replica and the
// member's answer goes to another, which logs out and sends the browser
// back. Either way the session ends on every replica, its refresh token
// at once and its access token within storage.postgres.revocation_delay.
func TestReplicasLogout(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid", "offline_access")

	t.Run("with a hint", func(t *testing.T) {
		b := e2e.NewBrowser(t, c.Server)
		tok := e2e.LoginRP(t, rp, b)
		q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {c.Issuer + "/rp/bye"}, "state": {"s1"}}
		p := b.Get(t, c.Issuer+"/end_session?"+q.Encode())
		at := time.Now()
		if p.Location != c.Issuer+"/rp/bye?state=s1" {
			t.Fatalf("end_session with this session's hint: %d to %q", p.Status, p.Location)
		}
		loggedOutEverywhere(t, rp, b)
		sessionTokensGone(t, c, tok, at)
	})
	t.Run("without a hint", func(t *testing.T) {
		b := e2e.NewBrowser(t, c.Server)
		tok := e2e.LoginRP(t, rp, b)
		q := url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {c.Issuer + "/rp/bye"}, "state": {"s2"}}
		p := b.Get(t, c.Issuer+"/end_session?"+q.Encode())
		m := logoutIDRe.FindStringSubmatch(p.Body)
		if p.Status != http.StatusOK || p.URL.Path != "/logout" || m == nil {
			t.Fatalf("end_session without a hint: %d at %s, want the question", p.Status, p.URL)
		}
		res := b.Post(t, p.URL, "/logout", url.Values{"logout_id": {m[1]}, "action": {"logout"}})
		at := time.Now()
		if res.Location != c.Issuer+"/rp/bye?state=s2" || res.Header.Get(e2e.ReplicaHeader) == p.Header.Get(e2e.ReplicaHeader) {
			t.Fatalf("the member's yes: %d to %q on replica %s (the question from %s), want the relying party from another replica",
				res.Status, res.Location, res.Header.Get(e2e.ReplicaHeader), p.Header.Get(e2e.ReplicaHeader))
		}
		loggedOutEverywhere(t, rp, b)
		sessionTokensGone(t, c, tok, at)
	})
}

// sessionTokensGone checks that an ended session's refresh token is
// refused by every replica, and its access token within the bound of the
// logout's answer at since.
func sessionTokensGone(t *testing.T, c *e2e.Cluster, tok *oauth2.Token, since time.Time) {
	t.Helper()
	for _, r := range c.Replicas {
		if status, _, _ := refreshAt(t, r.Base, tok.RefreshToken); status != http.StatusBadRequest {
			t.Errorf("the ended session's refresh token at %s: status %d, want 400 invalid_grant", r.Base, status)
		}
	}
	everyReplicaWithin(t, c, since, "the ended session's access token", func(base string) bool {
		return userinfoStatus(t, base, tok.AccessToken) == http.StatusUnauthorized
	})
}
