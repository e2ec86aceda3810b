package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDeviceGrant: the device pages in a real Chromium, each shot
// checked for accessibility (Shot): the code form filled from
// verification_uri_complete, the confirmation naming the device's app, the
// login, the consent for the device, and "return to your device"; the
// television's x/oauth2 poll gets its tokens.
func TestBrowserDeviceGrant(t *testing.T) {
	s := StartWithMember(t, Options{Host: "localhost", Extra: deviceYAML})
	AddDeviceClient(t, s, "lounge-tv", "ラウンジTV")
	_, cfg := DeviceApp(t, s, "lounge-tv")
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	polled := pollInBackground(t, cfg, da)
	c := NewChrome(t)
	c.Do(chromedp.Navigate(da.VerificationURIComplete), chromedp.WaitVisible(chromedp.CSS(`#user_code`)))
	if v := Value(c, chromedp.Evaluate[string](`document.querySelector('#user_code').value`)); v != da.UserCode {
		t.Errorf("the code field holds %q, want %q from the complete URI", v, da.UserCode)
	}
	c.Shot("device-enter")
	c.Do(chromedp.Submit(chromedp.CSS(`#user_code`)), chromedp.WaitVisible(chromedp.CSS(`#device-continue`)))
	c.Shot("device-confirm")
	if main := Value(c, chromedp.Evaluate[string](`document.querySelector('main').innerText`)); !strings.Contains(main, "ラウンジTV") || !strings.Contains(main, da.UserCode) {
		t.Errorf("the confirmation does not name the app and the code:\n%s", main)
	}
	c.Do(chromedp.Click(chromedp.CSS(`#device-continue`)), waitURL(s.Issuer+"/login"))
	c.LoginForm(MemberNumber, MemberPass)
	c.Do(waitURL(s.Issuer+"/login/consent"), chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)))
	c.Shot("device-consent")
	c.Do(chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(`main .card`)))
	c.Shot("device-done")
	if main := Value(c, chromedp.Evaluate[string](`document.querySelector('main').innerText`)); !strings.Contains(main, "デバイスに戻って") {
		t.Errorf("after approving: %s", main)
	}
	if res := <-polled; res.err != nil || res.tok.AccessToken == "" {
		t.Fatalf("the television's poll: %v", res.err)
	}
}
