package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserShowPasswordAndPrimaryAction: the login page's "show
// password" toggle shows and hides the password (a button with
// aria-pressed, its label saying what it will do), the field is a
// password field again when the form is sent, and the page has one solid
// primary action (the password form's; the passkey button is outlined).
// Without JavaScript there is no toggle, and the form works as before.
func TestBrowserShowPasswordAndPrimaryAction(t *testing.T) {
	s := StartWithMember(t, Options{Host: "localhost", Extra: "dev: true\n"})
	c := NewChrome(t)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login?lang=en"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`button.reveal`)))
	typ := func() string { return Value(c, chromedp.Evaluate[string](`document.getElementById('password').type`)) }
	pressed := func() string {
		return Value(c, chromedp.Evaluate[string](`document.querySelector('button.reveal').getAttribute('aria-pressed')`))
	}
	c.Do(chromedp.SendKeys(chromedp.CSS(`#password`), MemberPass))
	if got := c.Text(`button.reveal`); got != "Show password" || typ() != "password" || pressed() != "false" {
		t.Fatalf("before: %q, type %s, aria-pressed %s", got, typ(), pressed())
	}
	c.Do(chromedp.Click(chromedp.CSS(`button.reveal`)))
	c.Shot("password-shown")
	if got := c.Text(`button.reveal`); got != "Hide password" || typ() != "text" || pressed() != "true" {
		t.Errorf("shown: %q, type %s, aria-pressed %s", got, typ(), pressed())
	}
	if n := Value(c, chromedp.Evaluate[int](`[...document.querySelectorAll('button.primary')].filter(b => b.offsetParent !== null).length`)); n != 1 {
		t.Errorf("%d solid primary buttons on the login page, want 1", n)
	}
	// Sent while shown: a password field again when it goes.
	// (A listener added after the page's runs after its own; the demo app
	// is on the same origin, so sessionStorage tells after the navigation.)
	Value(c, chromedp.Evaluate[bool](`document.querySelector('form[action="/login"]').addEventListener('submit', () => sessionStorage.setItem('sentAs', document.getElementById('password').type)) || true`))
	c.Do(chromedp.SendKeys(chromedp.CSS(`#member_number`), MemberNumber),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)), waitURL(s.Issuer+"/demo/callback"))
	if sent := Value(c, chromedp.Evaluate[string](`sessionStorage.getItem('sentAs')`)); sent != "password" {
		t.Errorf("the password was sent from a %q field, want password", sent)
	}

	plain := NewChrome(t)
	plain.Do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}), chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`#password`)))
	if visible := Value(plain, chromedp.Evaluate[bool](`document.querySelector('button.reveal').offsetParent !== null`)); visible {
		t.Error("the toggle shows without JavaScript, where it cannot work")
	}
	plain.LoginForm(MemberNumber, MemberPass)
	plain.Do(waitURL(s.Issuer + "/demo/callback"))
}
