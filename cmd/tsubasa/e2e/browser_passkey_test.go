package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"tsubasa/provider/notify/notifytest"
)

const (
	pkNumber = "3456789"
	pkPass   = "Tsubasa-Passkey-26"
	// pkGeneric is the one message of every failed passkey login (en).
	pkGeneric = "We could not log you in with a passkey."
)

// Init scripts that make the browser look older than it is.
const (
	// A browser without WebAuthn at all.
	scriptNoWebAuthn = `delete window.PublicKeyCredential;`
	// A browser without conditional mediation (no passkeys in autofill):
	// the virtual authenticator answers an autofill request at once, so
	// the button journeys turn it off.
	scriptNoAutofill = `if (window.PublicKeyCredential) { PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false); }`
	// A browser without signalAllAcceptedCredentials, which would have the
	// authenticator forget a deleted passkey as soon as the list shows.
	scriptNoAcceptedSignal = `if (window.PublicKeyCredential) { delete PublicKeyCredential.signalAllAcceptedCredentials; }`
)

// Authenticator is a CDP virtual authenticator in the browser's tab, as a
// phone's platform authenticator: CTAP 2.1, internal transport, resident
// keys, user verification (biometrics) that succeeds until told otherwise.
type Authenticator struct {
	c  *Chrome
	id webauthn.AuthenticatorID
}

func (c *Chrome) cdpCall(f func(ctx context.Context, t *chromedp.Target) error) {
	c.t.Helper()
	c.Do(chromedp.Func(f))
}

func (c *Chrome) AddVirtualAuthenticator() *Authenticator {
	c.t.Helper()
	a := &Authenticator{c: c}
	c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		a.id = res.AuthenticatorID
		return err
	})
	return a
}

// SetUserVerified makes the next user verifications succeed or fail (a
// finger the sensor does not know).
func (a *Authenticator) SetUserVerified(ok bool) {
	a.c.t.Helper()
	a.c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: a.id, IsUserVerified: ok})
		return err
	})
}

// SetBadUV makes the authenticator clear the UV flag of its responses while
// claiming success, so only the server can notice.
func (a *Authenticator) SetBadUV(bad bool) {
	a.c.t.Helper()
	a.c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: a.id, IsBadUV: &bad})
		return err
	})
}

// Credentials lists the passkeys the authenticator holds.
func (a *Authenticator) Credentials() []*webauthn.Credential {
	a.c.t.Helper()
	var out []*webauthn.Credential
	a.c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.id})
		out = res.Credentials
		return err
	})
	return out
}

// EvalOnNewDocument runs source before every page's own scripts until removed.
func (c *Chrome) EvalOnNewDocument(source string) (remove func()) {
	c.t.Helper()
	var id page.ScriptIdentifier
	c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source})
		id = res.Identifier
		return err
	})
	return func() {
		c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: id})
			return err
		})
	}
}

var pkSMSCodeRe = regexp.MustCompile(`\b(\d{6})\b`)

// pkSMSCode waits for the SMS after the first seen ones and returns its code.
func pkSMSCode(t *testing.T, sms *notifytest.SMSWebhook, seen int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got := sms.Delivered(); len(got) > seen {
			last := got[len(got)-1]
			m := pkSMSCodeRe.FindStringSubmatch(last.Body)
			if m == nil {
				t.Fatalf("no code in the SMS %q", last.Body)
			}
			return m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no SMS after the first %d", seen)
	return ""
}

// EnterPasskeySMSCode fills the one-time-password form with the next SMS's code.
func (c *Chrome) EnterPasskeySMSCode(sms *notifytest.SMSWebhook, seen int, shot string) {
	c.t.Helper()
	c.Do(chromedp.WaitVisible(chromedp.CSS(`input[name="otp"][autocomplete="one-time-code"]`)))
	code := pkSMSCode(c.t, sms, seen)
	c.Shot(shot)
	c.Do(chromedp.SendKeys(chromedp.CSS(`input[name="otp"]`), code), chromedp.Submit(chromedp.CSS(`input[name="otp"]`)))
}

// passkeyPasswordLogin logs in on the form; a one-time password asked for on a
// new device comes by SMS. It waits until the browser reaches next.
func (c *Chrome) passkeyPasswordLogin(sms *notifytest.SMSWebhook, next string) {
	c.t.Helper()
	seen := len(sms.Delivered())
	c.LoginForm(pkNumber, pkPass)
	c.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err != nil || strings.HasPrefix(loc, next) {
				return err
			}
			if n, _ := chromedp.Evaluate[int](`document.querySelectorAll('input[name="otp"]').length`)(ctx, t); n > 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	if !strings.HasPrefix(c.Location(), next) {
		c.EnterPasskeySMSCode(sms, seen, "login-sms-code")
		c.Do(waitURL(next))
	}
}

// passkeyFailed waits for the one generic failure message on the login page.
func (c *Chrome) passkeyFailed(shot string) {
	c.t.Helper()
	c.Do(chromedp.WaitVisible(chromedp.CSS(`main .alert .error`)))
	c.Shot(shot)
	if msg := c.Text(`main .alert .error`); !strings.Contains(msg, pkGeneric) {
		c.t.Errorf("failed passkey login shows %q, want the generic message", msg)
	}
	if loc := c.Location(); !strings.Contains(loc, "/login?") {
		c.t.Errorf("failed passkey login left the login page for %s", loc)
	}
}

// TestBrowserPasskeyJourney: a member resident in Japan registers a passkey
// from the account pages after an SMS code, logs out, logs in to the demo
// app with it (button, then autofill) at acr phr; a failed user
// verification is refused with the generic message; the member deletes
// the passkey and it no longer logs in. Pages are shot at every step.
// A back office subscribed to passkey.added and passkey.removed gets both,
// signed, about this member, in that order.
func TestBrowserPasskeyJourney(t *testing.T) {
	sms := notifytest.NewSMSWebhook(t)
	s := Start(t, Options{Host: "localhost", Extra: "dev: true\n" + privateHooks, SMSURL: sms.URL()})
	hooks := NewWebhookReceiver(t)
	hooks.Subscribe(t, s, "member.created", "passkey.added", "passkey.removed")
	s.CLI(t, false, "member", "create", "--number", pkNumber, "--password", pkPass, "--family-name", "大空", "--given-name", "翼",
		"--phone", "+819012345678", "--country", "JP", "--locale", "en")
	c := NewChrome(t)
	auth := c.AddVirtualAuthenticator()
	noAutofill := c.EvalOnNewDocument(scriptNoAutofill)

	// Without WebAuthn the passkey button stays hidden and the form works.
	noWebAuthn := c.EvalOnNewDocument(scriptNoWebAuthn)
	c.Do(chromedp.Navigate(s.Issuer+"/account/passkeys"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`#member_number`)))
	c.Shot("login-without-webauthn")
	if hidden := Value(c, chromedp.Evaluate[bool](`document.getElementById('passkey-login').hidden`)); !hidden {
		t.Error("the passkey button shows in a browser without WebAuthn")
	}
	noWebAuthn()
	c.passkeyPasswordLogin(sms, s.Issuer+"/account/passkeys")
	c.Do(chromedp.WaitVisible(chromedp.CSS(`#passkey-new`)))
	c.Shot("passkeys-none")

	// Register: the SMS code first, then the device.
	seen := len(sms.Delivered())
	c.Do(chromedp.Click(chromedp.CSS(`#passkey-new`)), waitURL(s.Issuer+"/account/otp"))
	c.EnterPasskeySMSCode(sms, seen, "passkey-sms-code")
	if last := sms.Delivered()[len(sms.Delivered())-1]; last.To != "+819012345678" {
		t.Errorf("registration code went to %s", last.To)
	}
	c.Do(waitURL(s.Issuer+"/account/passkeys/new"), chromedp.WaitVisible(chromedp.CSS(`#passkey-register-form`)))
	c.Shot("passkey-register")
	c.Do(
		chromedp.SendKeys(chromedp.CSS(`#passkey_name`), "Sora's phone"),
		chromedp.Click(chromedp.CSS(`#passkey-register-form button[type="submit"]`)),
		waitURL(s.Issuer+"/account/passkeys?done=added"),
		chromedp.WaitVisible(chromedp.CSS(`.passkey-item`)),
	)
	c.Shot("passkey-registered")
	if list := c.Text(`main`); !strings.Contains(list, "Sora's phone") || !strings.Contains(list, "Not used yet") || !strings.Contains(list, "only on the device") {
		t.Errorf("passkey list after registering:\n%s", list)
	}
	if creds := auth.Credentials(); len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("authenticator credentials after registering: %+v", creds)
	}
	// Rename it.
	c.Do(
		chromedp.SetValue(chromedp.CSS(`.passkey-item input[name="name"]`), "Sora's travel phone"),
		chromedp.Submit(chromedp.CSS(`.passkey-item input[name="name"]`)),
		waitURL(s.Issuer+"/account/passkeys?done=renamed"),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
	)
	c.Shot("passkey-renamed")
	if h := c.Text(`.passkey-item h2`); h != "Sora's travel phone" {
		t.Errorf("renamed passkey shows as %q", h)
	}
	// Log out.
	c.Do(chromedp.Navigate(s.Issuer+"/account"), chromedp.Click(chromedp.CSS(`form[action="/account/logout"] button`)), waitURL(s.Issuer+"/logged-out"))

	// Log in to the demo app with the button; the app asks for phr.
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login?acr=phr"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`#passkey-login-button`)))
	c.Shot("login-passkey-button")
	c.Do(chromedp.Click(chromedp.CSS(`#passkey-login-button`)), waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	c.Shot("demo-claims-passkey")
	claims := c.Text(`pre`)
	for _, want := range []string{`"acr": "phr"`, `"hwk"`, `"user"`, `"member_number": "` + pkNumber + `"`} {
		if !strings.Contains(claims, want) {
			t.Errorf("claims after a passkey login lack %s:\n%s", want, claims)
		}
	}
	c.Do(chromedp.Navigate(s.Issuer+"/account/passkeys"), chromedp.WaitVisible(chromedp.CSS(`.passkey-item`)))
	c.Shot("passkey-last-used")
	if list := c.Text(`main`); strings.Contains(list, "Not used yet") {
		t.Errorf("the passkey list does not show the last use:\n%s", list)
	}
	passkeyDates := func(lang string, want *regexp.Regexp) {
		for i, what := range []string{"passkey created", "passkey last used"} {
			checkDate(t, lang, what, Value(c, chromedp.Evaluate[string](`document.querySelectorAll('.passkey-item dl.profile dd')[`+strconv.Itoa(i)+`].textContent`)), want)
		}
	}
	passkeyDates("en", dateTimeEn)
	c.Do(chromedp.Navigate(s.Issuer+"/account/passkeys?lang=ja"), chromedp.WaitVisible(chromedp.CSS(`.passkey-item`)))
	c.Shot("passkey-list-ja")
	if h := c.Text("h1"); h != "パスキーの登録・変更・削除" {
		t.Errorf("Japanese heading %q", h)
	}
	passkeyDates("ja", dateTimeJa)
	c.Do(chromedp.Navigate(s.Issuer + "/account/passkeys?lang=en"))

	// User verification fails on the device: the generic message.
	c.LogOut(s.Issuer)
	auth.SetUserVerified(false)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.Click(chromedp.CSS(`#passkey-login-button`)))
	c.passkeyFailed("passkey-uv-failed")
	auth.SetUserVerified(true)
	// An authenticator that answers without verifying: the server refuses it.
	auth.SetBadUV(true)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.Click(chromedp.CSS(`#passkey-login-button`)))
	c.passkeyFailed("passkey-uv-flag-refused")
	auth.SetBadUV(false)

	// A password is not enough for an app that asks for phr: the passkey
	// step follows, and the passkey completes the login at phr.
	c.LogOut(s.Issuer)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login?acr=phr"), waitURL(s.Issuer+"/login"))
	c.LoginForm(pkNumber, pkPass)
	c.Do(waitURL(s.Issuer+"/login/passkey/required"), chromedp.WaitVisible(chromedp.CSS(`#passkey-login-button`)))
	c.Shot("passkey-required-step")
	c.Do(chromedp.Click(chromedp.CSS(`#passkey-login-button`)), waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	if claims := c.Text(`pre`); !strings.Contains(claims, `"acr": "phr"`) {
		t.Errorf("claims after the passkey step:\n%s", claims)
	}

	// Autofill (conditional mediation): the virtual authenticator picks the
	// passkey as soon as the page offers it.
	noAutofill()
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login?acr=phr"), waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	c.Shot("demo-claims-autofill")
	if claims := c.Text(`pre`); !strings.Contains(claims, `"acr": "phr"`) {
		t.Errorf("autofill login claims:\n%s", claims)
	}

	// The login history has the passkey logins, the refused one included,
	// as it has password logins.
	c.Do(chromedp.Navigate(s.Issuer+"/account/history"), chromedp.WaitVisible(chromedp.CSS(`li.login`)))
	c.Shot("history-passkey")
	count := func(class string) int {
		return Value(c, chromedp.Evaluate[int](`[...document.querySelectorAll('li.login.`+class+`')].filter(li => li.textContent.includes('Passkey')).length`))
	}
	if ok, failed := count("ok"), count("failed"); ok != 2 || failed != 1 {
		t.Errorf("history: %d passkey logins and %d refused, want 2 and 1", ok, failed)
	}

	// Delete it (the passkey login is a fresh step-up) and show it is gone.
	noAutofill = c.EvalOnNewDocument(scriptNoAutofill)
	noSignal := c.EvalOnNewDocument(scriptNoAcceptedSignal)
	c.Do(chromedp.Navigate(s.Issuer+"/account/passkeys"), chromedp.Click(chromedp.CSS(`.passkey-item a[href$="/delete"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"] button`)))
	c.Shot("passkey-delete-confirm")
	c.Do(chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`)), waitURL(s.Issuer+"/account/passkeys?done=deleted"), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	c.Shot("passkey-deleted")
	if n := Value(c, chromedp.Evaluate[int](`document.querySelectorAll('.passkey-item').length`)); n != 0 {
		t.Errorf("%d passkeys listed after deleting", n)
	}
	c.LogOut(s.Issuer)
	if len(auth.Credentials()) == 0 {
		t.Fatal("the authenticator dropped the passkey; the server's refusal cannot be shown")
	}
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.Click(chromedp.CSS(`#passkey-login-button`)))
	c.passkeyFailed("deleted-passkey-refused")
	// The page told the browser the passkey is unknown, and it forgot it.
	waitAuthenticatorCredentials(t, auth, 0)
	noAutofill()
	noSignal()

	ds := hooks.WaitTypes(t, hooks.WaitCreated(t, webhookWait), webhookWait, "member.created", "passkey.added", "passkey.removed")
	checkOrdered(t, ds)
	if n := len(ds); n != 3 {
		t.Errorf("the receiver accepted %d deliveries about the member, want member.created, passkey.added, passkey.removed", n)
	}
}

// waitAuthenticatorCredentials waits until the authenticator holds n passkeys.
func waitAuthenticatorCredentials(t *testing.T, a *Authenticator, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if len(a.Credentials()) == n {
			return
		}
	}
	t.Errorf("the authenticator holds %d passkeys, want %d", len(a.Credentials()), n)
}
