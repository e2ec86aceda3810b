package attack

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// A partner app (a third-party client) that wants more than the member
// gave it: a login without asking, a consent the member never clicked,
// scopes its registration does not allow, an identifier to match members
// across apps, and tokens that outlive the link.

const partnerSecret = "partner-secret-0123456789"

// partnerConfig registers the partner: third party, allowed openid,
// profile and offline_access only.
func partnerConfig(issuer string) string {
	return fmt.Sprintf(`  - id: partner
    secret: %s
    name: Partner Travel
    third_party: true
    redirect_uris: [%s/rp/partner]
    scopes: [openid, profile, offline_access]
otp:
  on_login: never
`, partnerSecret, issuer)
}

// clientRequest is a POST of form to endpoint with the client's HTTP Basic
// credentials.
func clientRequest(t *testing.T, endpoint, id, secret string, form url.Values) *http.Request {
	t.Helper()
	req := e2e.NewFormRequest(t.Context(), endpoint, form.Encode())
	req.SetBasicAuth(id, secret)
	return req
}

// consentError is the error a callback carries, checking it is for this
// flow (state) and carries no code.
func consentError(t *testing.T, what string, cb *url.URL, f e2e.Flow) string {
	t.Helper()
	q := cb.Query()
	if q.Get("code") != "" || q.Get("state") != f.State {
		t.Errorf("%s: callback %s: want an error with state %q and no code", what, cb, f.State)
	}
	return q.Get("error")
}

// TestAttackConsentBypass plays a partner app against a member who is
// logged in at the programme's own website:
//
//   - prompt=none before any consent: consent_required at the partner's
//     redirect URI, no code;
//   - the consent page's "allow" posted by the partner's site (a cross-site
//     form) or from the partner's own browser with the member's request
//     id: refused, and still no consent;
//   - every scope there is asked for: the page shows, and the tokens and
//     userinfo carry, only what the partner is registered for;
//   - the sub it gets is pairwise: neither the first-party sub nor the
//     member number;
//   - the link sends the member an alert mail naming the app;
//   - once the member unlinks the app on /account/apps, its refresh token
//     is invalid_grant, its access token 401 at userinfo and inactive at
//     introspection, and prompt=none asks for consent again.
func TestAttackConsentBypass(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, smtpPort := smtp.Addr()
	port := e2e.FreePort(t)
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)
	s := e2e.StartWithMember(t, e2e.Options{Port: port, SMTPPort: smtpPort, Extra: partnerConfig(issuer)})
	web := e2e.NewRP(t, s, "web", webSecret)
	greedy := []string{oidc.ScopeOpenID, "profile", "email", "phone", "membership", oidc.ScopeOfflineAccess, "telephone"}
	partner := e2e.NewRP(t, s, "partner", partnerSecret, greedy...)
	partner.OAuth.RedirectURL = issuer + "/rp/partner"
	b := e2e.NewBrowser(t, s)
	f := e2e.NewFlow()
	_, idWeb := e2e.MustExchange(t, web, f, e2e.Login(t, b, web.AuthURL(f), e2e.MemberNumber, e2e.MemberPass))

	t.Run("prompt=none before consent", func(t *testing.T) {
		f := e2e.NewFlow()
		cb := e2e.Callback(t, b.Get(t, partner.AuthURL(f, oauth2.SetAuthURLParam("prompt", "none"))))
		if e := consentError(t, "prompt=none", cb, f); e != "consent_required" || !strings.HasPrefix(cb.String(), partner.OAuth.RedirectURL) {
			t.Errorf("prompt=none without consent: %s, want consent_required at the partner", cb)
		}
	})

	var tok *oauth2.Token
	var idPartner *oidc.IDToken
	t.Run("consent posted for the member", func(t *testing.T) {
		f := e2e.NewFlow()
		page := b.Get(t, partner.AuthURL(f))
		if page.URL.Path != "/login/consent" {
			t.Fatalf("the partner's first login: %d at %s, want the consent page", page.Status, page.URL)
		}
		form := url.Values{"authRequestID": {page.AuthRequestID(t)}, "action": {"approve"}}
		// The partner's site makes the member's browser post "allow".
		req := e2e.NewFormRequest(t.Context(), s.Issuer+"/login/consent", form.Encode())
		req.Header.Set("Origin", "https://partner.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if p := b.Send(t, req); p.Status != http.StatusForbidden || p.Location != "" {
			t.Errorf("a cross-site post of allow: %d (Location %q), want 403", p.Status, p.Location)
		}
		// The partner posts "allow" itself, with the member's request id.
		if p := e2e.NewBrowser(t, s).Post(t, page.URL, "/login/consent", form); p.Location != "" || p.Status < 400 {
			t.Errorf("allow from another browser: %d (Location %q), want refused", p.Status, p.Location)
		}
		cb := e2e.Callback(t, b.Get(t, partner.AuthURL(e2e.NewFlow(), oauth2.SetAuthURLParam("prompt", "none"))))
		if cb.Query().Get("error") != "consent_required" {
			t.Fatalf("after the forged allows: %s, want consent still required", cb)
		}

		// What the page asks is what the registration allows.
		for _, asked := range []string{"ご登録のメールアドレスと", "ご登録の電話番号と", "会員カードに記載の番号", "その他のアクセス"} {
			if strings.Contains(page.Body, asked) {
				t.Errorf("the consent page asks for a scope the partner is not allowed: %q", asked)
			}
		}
		cb = e2e.Callback(t, b.Post(t, page.URL, "/login/consent", form))
		tok, idPartner = e2e.MustExchange(t, partner, f, cb)
	})
	if tok == nil {
		t.FailNow()
	}

	t.Run("scopes beyond the registration", func(t *testing.T) {
		granted := strings.Fields(fmt.Sprint(tok.Extra("scope")))
		for _, sc := range granted {
			if !slices.Contains([]string{"openid", "profile", "offline_access"}, sc) {
				t.Errorf("granted %q (scope %q): not in the partner's registration", sc, granted)
			}
		}
		ui, err := partner.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := ui.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		var idClaims map[string]any
		if err := idPartner.Claims(&idClaims); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"email", "email_verified", "phone_number", "member_number"} {
			if _, ok := claims[c]; ok {
				t.Errorf("userinfo gives the partner %s", c)
			}
			if _, ok := idClaims[c]; ok {
				t.Errorf("the ID token gives the partner %s", c)
			}
		}
		if claims["name"] == nil {
			t.Errorf("userinfo lacks the allowed profile claims: %v", claims)
		}
		// A refresh may not widen the grant (RFC 6749 §6). x/oauth2 sends
		// no scope with a refresh: the partner writes the request itself.
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"scope": {"openid profile email membership"}}
		w := e2e.WireDo(t, clientRequest(t, s.Issuer+"/oauth/token", "partner", partnerSecret, form))
		if body := w.JSON(t); w.Status != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Errorf("a refresh asking for more: %d %s, want 400 invalid_scope", w.Status, w.Body)
		}
	})

	t.Run("pairwise subject", func(t *testing.T) {
		if idPartner.Subject == idWeb.Subject || strings.Contains(idPartner.Subject, e2e.MemberNumber) {
			t.Errorf("the partner's sub %q is the first-party sub %q or holds the member number", idPartner.Subject, idWeb.Subject)
		}
	})

	t.Run("link alert", func(t *testing.T) {
		m := smtp.WaitFor(t, func(m notifytest.ReceivedMail) bool {
			return strings.Contains(m.Subject, "外部アプリとの連携が行われました")
		}, 30*time.Second)
		if !slices.Contains(m.To, "hanako@example.com") || !strings.Contains(m.Text, "Partner Travel") {
			t.Errorf("the link alert went to %v and names the app? %q", m.To, m.Text)
		}
	})

	t.Run("tokens after the member unlinks the app", func(t *testing.T) {
		// Both tokens work until the unlink.
		next, err := e2e.Refresh(t, partner, tok.RefreshToken)
		if err != nil {
			t.Fatalf("the partner's refresh token before the unlink: %v", err)
		}
		tok = next
		accessWorks(t, s, "the partner's access token before the unlink", tok.AccessToken, introspector{"partner", partnerSecret})
		apps := b.Get(t, s.Issuer+"/account/apps")
		done := b.Post(t, apps.URL, "/account/apps/unlink", url.Values{"client_id": {"partner"}})
		if done.URL.Path != "/account/apps" || strings.Contains(done.Body, "Partner Travel") {
			t.Fatalf("unlink: %d at %s", done.Status, done.URL)
		}
		refreshRefused(t, partner, "the partner's refresh token after the unlink", tok.RefreshToken)
		accessRefused(t, s, "the partner's access token after the unlink", tok.AccessToken, introspector{"partner", partnerSecret})
		f := e2e.NewFlow()
		cb := e2e.Callback(t, b.Get(t, partner.AuthURL(f, oauth2.SetAuthURLParam("prompt", "none"))))
		if e := consentError(t, "prompt=none after the unlink", cb, f); e != "consent_required" {
			t.Errorf("prompt=none after the unlink: %s, want consent_required", cb)
		}
	})
}
