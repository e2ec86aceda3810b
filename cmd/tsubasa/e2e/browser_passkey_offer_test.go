package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"tsubasa/provider/notify/notifytest"
)

const (
	// lineUA is LINE's in-app browser on Android.
	lineUA      = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Line/14.10.1/IAB"
	offerNumber = "4567890"
	offerPass   = "Tsubasa-Offer-2026"
)

// scrape returns the value of one sample of the server's metrics, such as
// tsubasa_passkey_offers_total{outcome="shown"}.
func scrape(t *testing.T, s *Server, sample string) int {
	t.Helper()
	resp, err := http.Get(s.Metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /metrics", sample)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// demoLogin starts a login to the demo app and fills the password form.
func (c *Chrome) demoLogin(s *Server) {
	c.t.Helper()
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`#member_number`)))
	c.LoginForm(offerNumber, offerPass)
}

// TestBrowserPasskeyOffer: after a password login in a browser that can
// create a passkey (a platform authenticator, here CDP's virtual one), the
// member is offered one on the way back to the app. "Register" goes through
// the SMS code the programme requires, then the device, then on to the app
// with the authorization request intact; the authenticator holds the
// passkey and the next login, by passkey, needs no password; deleted on
// the passkeys page, the authenticator forgets it too. The same browser is
// not asked again within 30 days. Another browser says "not
// now", once, and is not asked again either. Without JavaScript, or in
// LINE's in-app browser, nothing is offered and the login goes straight
// to the app. /metrics counts what was shown, accepted and declined, and
// the logins by method.
func TestBrowserPasskeyOffer(t *testing.T) {
	sms := notifytest.NewSMSWebhook(t)
	s := Start(t, Options{Host: "localhost", Extra: "dev: true\n", SMSURL: sms.URL()})
	s.CLI(t, false, "member", "create", "--number", offerNumber, "--password", offerPass, "--family-name", "大空", "--given-name", "翼",
		"--phone", "+819012345670", "--country", "JP", "--locale", "en")

	c := NewChrome(t)
	auth := c.AddVirtualAuthenticator()
	noAutofill := c.EvalOnNewDocument(scriptNoAutofill)
	defer noAutofill()
	c.demoLogin(s)
	c.Do(waitURL(s.Issuer+"/login/passkey/offer"), chromedp.WaitVisible(chromedp.CSS(`#passkey-offer-create`)))
	c.Shot("passkey-offer")
	if got := c.Text(`h1`); got != "Log in with a passkey next time?" {
		t.Errorf("offer heading %q", got)
	}
	if n := scrape(t, s, `tsubasa_passkey_offers_total{outcome="shown"}`); n != 1 {
		t.Errorf("offers shown: %d, want 1", n)
	}

	// Register: the SMS code first, which comes back to the offer.
	seen := len(sms.Delivered())
	c.Do(chromedp.Click(chromedp.CSS(`#passkey-offer-create`)), waitURL(s.Issuer+"/account/otp"))
	c.EnterPasskeySMSCode(sms, seen, "passkey-offer-sms-code")
	c.Do(waitURL(s.Issuer+"/login/passkey/offer"), chromedp.WaitVisible(chromedp.CSS(`#passkey-offer-create`)))
	c.Shot("passkey-offer-after-code")
	c.Do(chromedp.Click(chromedp.CSS(`#passkey-offer-create`)), waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	c.Shot("passkey-offer-back-at-app")
	if claims := c.Text(`pre`); !strings.Contains(claims, `"member_number": "`+offerNumber+`"`) {
		t.Errorf("the app's claims after the offer:\n%s", claims)
	}
	if creds := auth.Credentials(); len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %+v after the offer, want one passkey", creds)
	}
	if n := scrape(t, s, `tsubasa_passkey_offers_total{outcome="accepted"}`); n != 1 {
		t.Errorf("offers accepted: %d, want 1", n)
	}

	// The passkey logs in; the password login after it is not offered again.
	c.LogOut(s.Issuer)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.Click(chromedp.CSS(`#passkey-login-button`)),
		waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	if claims := c.Text(`pre`); !strings.Contains(claims, `"acr": "phr"`) {
		t.Errorf("passkey login after the offer:\n%s", claims)
	}
	// Deleted on the passkeys page, it is gone from the authenticator too:
	// the page tells it which passkeys still count
	// (signalAllAcceptedCredentials).
	c.Do(chromedp.Navigate(s.Issuer+"/account/passkeys"), chromedp.WaitVisible(chromedp.CSS(`.passkey-item`)),
		chromedp.Click(chromedp.CSS(`.passkey-item a[href$="/delete"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`)), waitURL(s.Issuer+"/account/passkeys?done=deleted"))
	waitAuthenticatorCredentials(t, auth, 0)
	c.LogOut(s.Issuer)
	c.demoLogin(s)
	c.Do(waitURL(s.Issuer + "/demo/callback"))

	// Another browser declines, once.
	other := NewChrome(t)
	other.AddVirtualAuthenticator()
	other.demoLogin(s)
	other.Do(waitURL(s.Issuer+"/login/passkey/offer"), chromedp.WaitVisible(chromedp.CSS(`#passkey-offer-later`)))
	other.Do(chromedp.Click(chromedp.CSS(`#passkey-offer-later`)), waitURL(s.Issuer+"/demo/callback"))
	other.LogOut(s.Issuer)
	other.demoLogin(s)
	other.Do(waitURL(s.Issuer + "/demo/callback"))
	if n := scrape(t, s, `tsubasa_passkey_offers_total{outcome="declined"}`); n != 1 {
		t.Errorf("offers declined: %d, want 1", n)
	}

	// Without JavaScript, and in LINE's in-app browser: no offer.
	for name, setup := range map[string]chromedp.Action[chromedp.Void]{
		"no JavaScript": chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		"LINE": chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: lineUA})
			return err
		}),
	} {
		t.Run(name, func(t *testing.T) {
			b := NewChrome(t)
			b.AddVirtualAuthenticator()
			b.Do(setup)
			b.demoLogin(s)
			b.Do(waitURL(s.Issuer + "/demo/callback"))
		})
	}
	if n := scrape(t, s, `tsubasa_passkey_offers_total{outcome="shown"}`); n != 2 {
		t.Errorf("offers shown: %d, want 2 (one per browser that could take one)", n)
	}
	if n := scrape(t, s, `tsubasa_logins_total{method="passkey"}`); n != 1 {
		t.Errorf("passkey logins: %d, want 1", n)
	}
	if n := scrape(t, s, `tsubasa_logins_total{method="pwd"}`); n < 5 {
		t.Errorf("password logins: %d, want at least 5", n)
	}
}
