package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// devServer runs Tsubasa as the README's first command does (development
// mode, demo client and member) on http://localhost:PORT, a secure context
// for WebAuthn.
func devServer(t *testing.T) *Server {
	t.Helper()
	return Start(t, Options{Host: "localhost", Extra: "dev: true\n"})
}

// TestBrowserDemoLogin: a newcomer opens the demo app, logs in through
// Tsubasa with the demo member and sees the ID token claims and userinfo.
func TestBrowserDemoLogin(t *testing.T) {
	s := devServer(t)
	c := NewChrome(t)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/demo/login"]`)))
	c.Shot("demo-home")
	c.Do(chromedp.Click(chromedp.CSS(`a[href="/demo/login"]`)), waitURL(s.Issuer+"/login"))
	c.Shot("login")
	c.LoginForm("1234567", "Sora-Miles-2026")
	c.Do(waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	c.Shot("demo-claims")
	claims := c.Text(`pre`)
	for _, want := range []string{`"acr": "urn:tsubasa:acr:pwd"`, `"member_number": "1234567"`, `"sid"`} {
		if !strings.Contains(claims, want) {
			t.Errorf("claims page lacks %s:\n%s", want, claims)
		}
	}
}

// TestBrowserLanguageSwitchAndMobile: the switcher keeps the member's place
// in the flow, and the login page works at 320 px wide.
func TestBrowserLanguageSwitchAndMobile(t *testing.T) {
	s := devServer(t)
	c := NewChrome(t)
	c.Do(
		chromedp.EmulateViewport(320, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.Issuer+"/demo/login"),
		waitURL(s.Issuer+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`nav.lang`)),
	)
	before := c.Location()
	c.Shot("login-en-320px")
	// Headless Chromium asks for en-US, so the page starts in English.
	if h := c.Text("h1"); h != "Member login" {
		t.Errorf("Accept-Language en-US: heading %q", h)
	}
	c.Do(chooseLang("ja"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if h := c.Text("h1"); h != "会員ログイン" {
		t.Errorf("after switching to Japanese the heading is %q", h)
	}
	if after := c.Location(); after != before {
		t.Errorf("language switch lost the place in the flow: %s → %s", before, after)
	}
	c.Shot("login-ja-320px")
	scrollW := Value(c, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	clientW := Value(c, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
	if scrollW > clientW {
		t.Errorf("page scrolls sideways at 320px: scrollWidth %d > %d", scrollW, clientW)
	}
	c.LoginForm("1234567", "Sora-Miles-2026")
	c.Do(waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	c.Shot("claims-320px")
}
