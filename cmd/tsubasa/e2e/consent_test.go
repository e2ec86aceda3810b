package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tsubasa/storage/bolt"
)

// consentEnv is a server with two third-party apps in different sectors:
// partner-a from the config file (redirect host 127.0.0.1) and partner-b
// added with the CLI (redirect host localhost), besides the first-party web.
type consentEnv struct {
	s       *Server
	web     *RP
	a, b    *RP
	secretB string
	localRP string // partner-b's redirect URI
}

var cliSecretRe = regexp.MustCompile(`(?m)^Client secret: (\S+)$`)

func startConsent(t *testing.T) *consentEnv {
	t.Helper()
	port := FreePort(t)
	extra := fmt.Sprintf(`  - id: partner-a
    secret: partner-a-secret-0123456789
    name: Partner A
    third_party: true
    redirect_uris: [http://127.0.0.1:%d/rp/callback]
    logo_uri: https://partner-a.example/logo.png
    policy_uri: https://partner-a.example/privacy
otp:
  on_login: never
`, port) + privateHooks
	s := StartWithMember(t, Options{Port: port, Extra: extra})
	e := &consentEnv{s: s, localRP: fmt.Sprintf("http://localhost:%d/rp/callback", port)}
	out := s.CLI(t, false, "client", "add", "--id", "partner-b", "--name", "Partner B", "--third-party",
		"--redirect-uri", e.localRP, "--logo-uri", "https://partner-b.example/logo.svg",
		"--policy-uri", "https://partner-b.example/privacy")
	m := cliSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	e.secretB = m[1]
	for _, args := range [][]string{{"client", "show", "partner-b"}, {"client", "show", "partner-b", "--json"}, {"client", "list"}} {
		if shown := s.CLI(t, false, args...); strings.Contains(shown, e.secretB) {
			t.Errorf("tsubasa %s shows the secret again:\n%s", strings.Join(args, " "), shown)
		}
	}
	if shown := s.CLI(t, false, "client", "show", "partner-b"); !strings.Contains(shown, "https://partner-b.example/logo.svg") ||
		!strings.Contains(shown, "https://partner-b.example/privacy") || !strings.Contains(shown, "third-party") {
		t.Errorf("client show lacks the logo, policy or type:\n%s", shown)
	}
	e.web = NewRP(t, s, "web", "web-secret-0123456789")
	e.a = NewRP(t, s, "partner-a", "partner-a-secret-0123456789", oidc.ScopeOpenID, "profile", "membership")
	e.b = NewRP(t, s, "partner-b", e.secretB, oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess)
	e.b.OAuth.RedirectURL = e.localRP
	return e
}

// browser stops at both relying parties' callbacks.
func (e *consentEnv) browser(t *testing.T) *Browser {
	b := NewBrowser(t, e.s)
	b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if u := req.URL.String(); strings.HasPrefix(u, e.s.Issuer+"/rp/") || strings.HasPrefix(u, e.localRP) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

// consentPage asserts that p is the consent page.
func consentPage(t *testing.T, p Page, what string) Page {
	t.Helper()
	if p.Status != http.StatusOK || p.URL.Path != "/login/consent" {
		t.Fatalf("%s: want the consent page, got %d at %s (location %q)", what, p.Status, p.URL, p.Location)
	}
	return p
}

func decide(t *testing.T, b *Browser, p Page, action string) *url.URL {
	t.Helper()
	return Callback(t, b.Post(t, p.URL, "/login/consent", url.Values{"authRequestID": {p.AuthRequestID(t)}, "action": {action}}))
}

func TestThirdPartyConsent(t *testing.T) {
	e := startConsent(t)
	s, b := e.s, e.browser(t)
	ctx := t.Context()
	hooks := NewWebhookReceiver(t)
	hooks.Subscribe(t, s, "app.linked", "app.unlinked")

	// First-party: no consent page, the public sub.
	f := NewFlow()
	_, idWeb := MustExchange(t, e.web, f, Login(t, b, e.web.AuthURL(f), MemberNumber, MemberPass))

	// prompt=none for an app the member never allowed: consent_required.
	f = NewFlow()
	cb := Callback(t, b.Get(t, e.b.AuthURL(f, oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("error") != "consent_required" || cb.Query().Get("state") != f.State || !strings.HasPrefix(cb.String(), e.localRP) {
		t.Fatalf("prompt=none without consent: %s", cb)
	}

	// Partner A: the consent page names the app, in the member's language (ja).
	f = NewFlow()
	p := consentPage(t, b.Get(t, e.a.AuthURL(f)), "first login to partner-a")
	for _, want := range []string{
		`<img src="https://partner-a.example/logo.png" alt="Partner A"`,
		`<a href="https://partner-a.example/privacy" rel="noopener noreferrer"`,
		"このアプリ専用の会員ID", "お名前と言語設定", "会員番号", "****321", "許可する", "許可しない",
		`action="/login/consent/switch"`,
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(p.Body, "<script") || strings.Contains(p.Body, MemberNumber) {
		t.Error("the consent page has a script or shows the whole member number")
	}
	if resp, err := b.Client.Get(p.URL.String()); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") || !strings.Contains(csp, "https:") {
			t.Errorf("CSP does not allow the logo: %q", csp)
		}
	}
	tokA, idA := MustExchange(t, e.a, f, decide(t, b, p, "approve"))
	if tokA.RefreshToken != "" {
		t.Error("a third-party app got a refresh token without offline_access")
	}
	if ui, err := e.a.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tokA)); err != nil || ui.Subject != idA.Subject {
		t.Errorf("userinfo sub for partner-a: %v, %v", ui, err)
	}

	// Partner B (another sector) with offline_access: asked, then a refresh token.
	f = NewFlow()
	p = consentPage(t, b.Get(t, e.b.AuthURL(f)), "first login to partner-b")
	if !strings.Contains(p.Body, "アプリを使っていないときも連携を維持") || !strings.Contains(p.Body, `alt="Partner B"`) {
		t.Error("partner-b's consent page does not explain offline_access or name the app")
	}
	tokB, idB := MustExchange(t, e.b, f, decide(t, b, p, "approve"))
	if tokB.RefreshToken == "" {
		t.Fatal("partner-b got no refresh token after consenting to offline_access")
	}
	subs := []string{idWeb.Subject, idA.Subject, idB.Subject}
	if idA.Subject == idB.Subject || slices.Contains(subs[1:], idWeb.Subject) {
		t.Errorf("subjects must differ per sector and from the public sub: web %s, a %s, b %s", subs[0], subs[1], subs[2])
	}

	// Remembered: the same scopes again go straight back to the app, same sub.
	f = NewFlow()
	_, idA2 := MustExchange(t, e.a, f, Callback(t, b.Get(t, e.a.AuthURL(f))))
	if idA2.Subject != idA.Subject {
		t.Errorf("pairwise sub changed between logins: %s, %s", idA.Subject, idA2.Subject)
	}

	// More scope asks again; prompt=none answers consent_required first.
	wider := *e.a
	wider.OAuth.Scopes = []string{oidc.ScopeOpenID, "profile", "membership", "email"}
	cb = Callback(t, b.Get(t, wider.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
	if cb.Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none with a new scope: %s", cb)
	}
	f = NewFlow()
	p = consentPage(t, b.Get(t, wider.AuthURL(f)), "new scope")
	if !strings.Contains(p.Body, "追加") {
		t.Error("the new scope is not marked")
	}
	MustExchange(t, &wider, f, decide(t, b, p, "approve"))

	// offline_access is never implied for a third party: asked explicitly.
	offline := *e.a
	offline.OAuth.Scopes = []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}
	f = NewFlow()
	p = consentPage(t, b.Get(t, offline.AuthURL(f)), "offline_access for partner-a")
	tokA, _ = MustExchange(t, &offline, f, decide(t, b, p, "approve"))
	if tokA.RefreshToken == "" {
		t.Fatal("no refresh token for partner-a after consenting to offline_access")
	}

	// prompt=consent asks although covered, once: approving finishes.
	f = NewFlow()
	p = consentPage(t, b.Get(t, e.a.AuthURL(f, oauth2.SetAuthURLParam("prompt", "consent"))), "prompt=consent")
	MustExchange(t, e.a, f, decide(t, b, p, "approve"))

	// Deny: access_denied at the app, with its state.
	f = NewFlow()
	p = consentPage(t, b.Get(t, e.b.AuthURL(f, oauth2.SetAuthURLParam("prompt", "consent"))), "prompt=consent for deny")
	cb = decide(t, b, p, "deny")
	if cb.Query().Get("error") != "access_denied" || cb.Query().Get("state") != f.State || !strings.HasPrefix(cb.String(), e.localRP) {
		t.Errorf("deny: %s", cb)
	}

	// The linked apps page lists both, with what each may see and since when.
	apps := b.Get(t, s.Issuer+"/account/apps")
	for _, want := range []string{"Partner A", "Partner B", "から連携", "メールアドレス", "アプリを使っていないときも連携を維持"} {
		if !strings.Contains(apps.Body, want) {
			t.Errorf("linked apps page lacks %q", want)
		}
	}
	if home := b.Get(t, s.Issuer+"/account"); !strings.Contains(home.Body, `href="/account/apps"`) {
		t.Error("the account page does not link to the linked apps")
	}

	// Unlink partner-a: its refresh and access tokens die, partner-b's live.
	done := b.Post(t, apps.URL, "/account/apps/unlink", url.Values{"client_id": {"partner-a"}})
	if done.URL.Path != "/account/apps" || strings.Contains(done.Body, "Partner A") || !strings.Contains(done.Body, "Partner B") ||
		!strings.Contains(done.Body, `role="status"`) {
		t.Fatalf("after unlink: %d at %s\n%s", done.Status, done.URL, done.Body)
	}
	if _, err := Refresh(t, &offline, tokA.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("partner-a's refresh token after unlink: %v, want invalid_grant", err)
	}
	if _, err := e.a.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tokA)); err == nil {
		t.Error("partner-a's access token still works after unlink")
	}
	if _, err := Refresh(t, e.b, tokB.RefreshToken); err != nil {
		t.Errorf("unlinking partner-a revoked partner-b's tokens: %v", err)
	}
	// Linking again asks again (and gives the same pairwise sub).
	f = NewFlow()
	p = consentPage(t, b.Get(t, e.a.AuthURL(f)), "partner-a after unlink")
	if _, idA3 := MustExchange(t, e.a, f, decide(t, b, p, "approve")); idA3.Subject != idA.Subject {
		t.Errorf("pairwise sub changed after relinking")
	}

	// A back office subscribed to app.linked and app.unlinked got each,
	// signed, about this member and naming the app, in order.
	checkAppEvents(t, hooks.WaitTypes(t, idWeb.Subject, webhookWait, "app.linked", "app.linked", "app.unlinked", "app.linked"),
		"app.linked partner-a", "app.linked partner-b", "app.unlinked partner-a", "app.linked partner-a")

	// The audit log has the unlink; the CLI client's secret is stored hashed.
	s.Stop(t)
	st, err := bolt.Open(filepath.Join(s.Dir, "tsubasa.db"), bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListEvents(ctx, idWeb.Subject, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := func(typ, client, kind string) (n int) {
		for _, ev := range evs {
			if ev.Type == typ && ev.ClientID == client && ev.Detail["kind"] == kind {
				n++
			}
		}
		return n
	}
	if n := count("app.unlinked", "partner-a", ""); n != 1 {
		t.Errorf("%d app.unlinked events for partner-a, want 1", n)
	}
	// Each first consent (partner-a twice: linked, unlinked, linked again)
	// is announced by the login alert mail (app-linked), queued in the outbox.
	for client, want := range map[string]int{"partner-a": 2, "partner-b": 1} {
		if n := count("app.linked", client, ""); n != want {
			t.Errorf("%d app.linked events for %s, want %d", n, client, want)
		}
		if n := count("alert.queued", client, "app_linked"); n != want {
			t.Errorf("%d app-linked alerts queued for %s, want %d", n, client, want)
		}
	}
	c, err := st.ClientByID(ctx, "partner-b")
	if err != nil || len(c.SecretHash) == 0 || bytes.Contains(c.SecretHash, []byte(e.secretB)) {
		t.Errorf("partner-b's secret is not stored as a hash: %v", err)
	}
}

// checkAppEvents fails t unless ds are, in order, the deliveries want
// names ("type client_id"), each verified.
func checkAppEvents(t *testing.T, ds []Delivery, want ...string) {
	t.Helper()
	checkOrdered(t, ds)
	var got []string
	for _, d := range ds {
		got = append(got, d.Body.Type+" "+d.Body.Data.ClientID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("app deliveries %q, want %q", got, want)
	}
}

// TestConsentNotYou: "not you?" on the consent page ends the session and
// shows the login form for the same request; after the login it continues.
func TestConsentNotYou(t *testing.T) {
	e := startConsent(t)
	b := e.browser(t)
	f := NewFlow()
	login := b.Get(t, e.a.AuthURL(f))
	p := consentPage(t, b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)},
		"member_number": {MemberNumber}, "password": {MemberPass}}), "after login")
	again := b.Post(t, p.URL, "/login/consent/switch", url.Values{"authRequestID": {p.AuthRequestID(t)}})
	if again.URL.Path != "/login" || !strings.Contains(again.Body, `autocomplete="current-password"`) {
		t.Fatalf("not you: want the login form, got %d at %s", again.Status, again.URL)
	}
	if home := b.Get(t, e.s.Issuer+"/account"); home.URL.Path == "/account" {
		t.Error("the session survived \"not you?\"")
	}
	p = consentPage(t, b.Post(t, again.URL, "/login", url.Values{"authRequestID": {again.AuthRequestID(t)},
		"member_number": {MemberNumber}, "password": {MemberPass}}), "after logging in again")
	MustExchange(t, e.a, f, decide(t, b, p, "approve"))
}
