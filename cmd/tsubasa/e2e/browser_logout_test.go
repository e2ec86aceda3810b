package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// LogOut logs the browser out as a member does on a shared computer: the
// logout question, then "Log out", landing on the logged-out page (where
// a browser that is not logged in lands at once).
func (c *Chrome) LogOut(issuer string) {
	c.t.Helper()
	c.Do(chromedp.Navigate(issuer + "/logout"))
	if strings.HasPrefix(c.Location(), issuer+"/logout") {
		c.Do(chromedp.WaitVisible(chromedp.CSS(`#logout-confirm`)), chromedp.Click(chromedp.CSS(`#logout-confirm`)))
	}
	c.Do(waitURL(issuer + "/logged-out"))
}

// TestBrowserLogout: the demo app logs the member out without an
// id_token_hint, as an app that kept no ID token does. Tsubasa asks first,
// naming the app, in either language; "Stay logged in" keeps the session
// and does not return to the app; "Log out" ends it and returns to the
// app. The demo's own logout link carries the hint, so it logs out at
// once. After each logout the account pages ask for a login.
func TestBrowserLogout(t *testing.T) {
	s := devServer(t)
	c := NewChrome(t)
	demoLogin := func() {
		c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"))
		c.LoginForm("1234567", "Sora-Miles-2026")
		c.Do(waitURL(s.Issuer+"/demo/callback"), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	}
	askedToLogIn := func() { c.Do(chromedp.Navigate(s.Issuer+"/account"), waitURL(s.Issuer+"/login")) }
	demoLogin()
	q := url.Values{"client_id": {"demo"}, "post_logout_redirect_uri": {s.Issuer + "/demo/"}, "state": {"b1"}}
	question := func() {
		c.Do(chromedp.Navigate(s.Issuer+"/end_session?"+q.Encode()), waitURL(s.Issuer+"/logout"),
			chromedp.WaitVisible(chromedp.CSS(`#logout-confirm`)))
	}
	question()
	c.Shot("logout-question")
	if lead := c.Text(`#logout-q`); !strings.Contains(lead, "Tsubasa demo") {
		t.Errorf("the question does not name the app: %q", lead)
	}
	c.Do(chooseLang("ja"), waitURL(s.Issuer+"/logout"), chromedp.WaitVisible(chromedp.CSS(`#logout-confirm`)))
	c.Shot("logout-question-ja")
	if h := c.Text("h1"); h != "ログアウトの確認" {
		t.Errorf("Japanese heading %q", h)
	}
	c.Do(chromedp.Click(chromedp.CSS(`#logout-stay`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/account"]`)))
	c.Shot("logout-stayed")
	if loc := c.Location(); !strings.HasPrefix(loc, s.Issuer+"/logout") {
		t.Errorf("\"Stay logged in\" left for %s", loc)
	}
	c.Do(chromedp.Navigate(s.Issuer+"/account"), waitURL(s.Issuer+"/account"), chromedp.WaitVisible(chromedp.CSS(`form[action="/account/logout"]`)))

	question()
	c.Do(chromedp.Click(chromedp.CSS(`#logout-confirm`)), waitURL(s.Issuer+"/demo/?state=b1"))
	askedToLogIn()

	demoLogin()
	c.Do(chromedp.Click(chromedp.CSS(`a.button[href*="/end_session?"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/demo/login"]`)))
	if loc := c.Location(); loc != s.Issuer+"/demo/" {
		t.Errorf("the demo's logout with its ID token ended at %s, want the demo's home at once", loc)
	}
	askedToLogIn()
}
