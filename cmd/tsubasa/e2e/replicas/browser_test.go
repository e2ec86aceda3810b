package replicas

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// chrome drives one Chromium tab for a journey, failing the test at the
// first step that does not happen within 30 seconds.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

func (c chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("browser at %s: %v", loc, err)
	}
}

// cdp runs one DevTools call.
func (c chrome) cdp(f func(ctx context.Context, t *chromedp.Target) error) {
	c.t.Helper()
	c.do(chromedp.Func(f))
}

// waitURL waits until the page's URL starts with prefix, and returns it.
func (c chrome) waitURL(prefix string) *url.URL {
	c.t.Helper()
	var at string
	c.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err != nil {
				return err
			}
			if at = loc; strings.HasPrefix(loc, prefix) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s, at %s: %w", prefix, loc, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	u, err := url.Parse(at)
	if err != nil {
		c.t.Fatal(err)
	}
	return u
}

// codeEntry types the mailed code n into the page's one-time-password
// form and submits it.
func (c chrome) codeEntry(smtp *notifytest.SMTPServer, n int) {
	c.t.Helper()
	c.do(chromedp.WaitVisible(chromedp.CSS(`input[name="otp"][autocomplete="one-time-code"]`)))
	_, code := e2e.MailCode(c.t, smtp, n)
	c.do(chromedp.SendKeys(chromedp.CSS(`input[name="otp"]`), code), chromedp.Submit(chromedp.CSS(`input[name="otp"]`)))
}

// platformAuthenticator adds a CDP virtual authenticator to the tab, as a
// phone's: resident keys, user verification that succeeds. Conditional
// mediation (autofill) is turned off so the journey presses the button.
func (c chrome) platformAuthenticator() {
	c.t.Helper()
	c.cdp(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		if err != nil {
			return err
		}
		_, err = cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (window.PublicKeyCredential) { PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false); }`,
		})
		return err
	})
}

// TestReplicasBrowserJourney: a member in Chromium, through the cluster's
// proxy, every request of the browser's on the next replica. A password
// login from a new browser and the one-time password mailed for it, the
// passkey offered on the way back put off for later; the
// account's passkeys page, the code gate before a new passkey, the
// registration with the browser's (virtual) platform authenticator;
// logging out; then a login to the relying party with the passkey alone,
// at acr phr. The relying party (go-oidc, x/oauth2) exchanges each code
// through the proxy too.
func TestReplicasBrowserJourney(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	ctx := e2e.StartChromium(t) // skips (or fails in CI) before a cluster starts
	c := e2e.StartCluster(t, e2e.Options{Host: "localhost", SMTPPort: port,
		Extra: "otp:\n  on_login: new_device\npasskeys:\n  registration_requires: any_otp\n"}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret)
	b := chrome{t, ctx}
	b.platformAuthenticator()

	f := e2e.NewFlow()
	b.do(chromedp.Navigate(rp.AuthURL(f)), chromedp.WaitVisible(chromedp.CSS(`input[autocomplete~="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="member_number"]`), e2e.MemberNumber),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"][autocomplete="current-password"]`), e2e.MemberPass),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)))
	b.waitURL(c.Issuer + "/login/otp")
	b.codeEntry(smtp, 1)
	// A passkey is offered on the way back after a password login; later,
	// from the account pages.
	b.waitURL(c.Issuer + "/login/passkey/offer")
	b.do(chromedp.WaitVisible(chromedp.CSS(`#passkey-offer-later`)), chromedp.Click(chromedp.CSS(`#passkey-offer-later`)))
	e2e.MustExchange(t, rp, f, b.waitURL(c.Issuer+"/rp/callback"))

	b.do(chromedp.Navigate(c.Issuer+"/account/passkeys"), chromedp.Click(chromedp.CSS(`#passkey-new`)))
	b.waitURL(c.Issuer + "/account/otp")
	b.codeEntry(smtp, 2)
	b.waitURL(c.Issuer + "/account/passkeys/new")
	b.do(chromedp.WaitVisible(chromedp.CSS(`#passkey-register-form`)),
		chromedp.SendKeys(chromedp.CSS(`#passkey_name`), "Phone"),
		chromedp.Click(chromedp.CSS(`#passkey-register-form button[type="submit"]`)))
	b.waitURL(c.Issuer + "/account/passkeys?done=added")
	b.do(chromedp.Navigate(c.Issuer+"/account"), chromedp.Click(chromedp.CSS(`form[action="/account/logout"] button`)))
	b.waitURL(c.Issuer + "/logged-out")

	f = e2e.NewFlow()
	b.do(chromedp.Navigate(rp.AuthURL(f)), chromedp.WaitVisible(chromedp.CSS(`#passkey-login-button`)),
		chromedp.Click(chromedp.CSS(`#passkey-login-button`)))
	_, idt := e2e.MustExchange(t, rp, f, b.waitURL(c.Issuer+"/rp/callback"))
	var claims struct {
		ACR string `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.ACR != "phr" {
		t.Errorf("the passkey login: acr %q (%v), want phr", claims.ACR, err)
	}
	served := c.Proxy.Served()
	if slices.Min(served) < 5 || slices.Max(served)-slices.Min(served) > 1 {
		t.Errorf("requests served by each replica during the journey: %v, want equal shares (round robin) of the browser's", served)
	}
	t.Logf("requests served by each replica during the journey: %v", served)
}
