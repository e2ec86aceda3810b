package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitText waits until the first element matching sel holds want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			got, _ := chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, sel))(ctx, t)
			if strings.Contains(got, want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %q in %s, have %q: %w", want, sel, got, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// TestBrowserErrorPages: a login page left open past the request's
// lifetime, and an app whose redirect_uri is not registered, end on the
// friendly error page, in both languages, at a desktop's width and at
// 320 px; the unregistered address is shown as text, never followed.
func TestBrowserErrorPages(t *testing.T) {
	s := Start(t, Options{Host: "localhost", Extra: "dev: true\ntokens:\n  auth_request_ttl: 2s\n"})
	c := NewChrome(t)

	// The member opens the login page, and submits it too late.
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`#member_number`)))
	loginURL, _ := url.Parse(c.Location())
	time.Sleep(2500 * time.Millisecond)
	c.LoginForm("1234567", "Sora-Miles-2026")
	c.Do(waitText("h1", "Something went wrong"))
	c.Shot("expired-request-en")
	if msg := c.Text(`main .card p`); !strings.Contains(msg, "expired") {
		t.Errorf("expired request: %q", msg)
	}
	// The same request in Japanese (the switcher of a page answering a
	// POST goes back to the bare form, so open the request's own page).
	c.Do(chromedp.Navigate(s.Issuer+"/login?lang=ja&authRequestID="+url.QueryEscape(loginURL.Query().Get("authRequestID"))),
		waitText("main .card p", "期限"))
	c.Shot("expired-request-ja")

	// An app sends an unregistered (and long) redirect_uri; at a phone's
	// width the address must wrap, not widen the page.
	evil := "https://evil.example/" + strings.Repeat("callback-", 12) + "?next=%2Faccount%2Fpassword"
	q := url.Values{"client_id": {"demo"}, "redirect_uri": {evil}, "response_type": {"code"}, "scope": {"openid"}, "state": {"x"}}
	for _, view := range []struct {
		name string
		set  chromedp.Action[chromedp.Void]
	}{
		{"desktop", chromedp.EmulateViewport(1280, 900)},
		{"320px", chromedp.EmulateViewport(320, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile)},
	} {
		c.Do(view.set, chromedp.Navigate(s.Issuer+"/authorize?"+q.Encode()+"&lang=ja"), chromedp.WaitVisible(chromedp.CSS(`.detail code`)))
		c.Shot("bad-redirect-uri-" + view.name + "-ja")
		c.Do(chooseLang("en"), waitText("h1", "Something went wrong"), chromedp.WaitVisible(chromedp.CSS(`.detail code`)))
		c.Shot("bad-redirect-uri-" + view.name + "-en")
		if loc := c.Location(); !strings.HasPrefix(loc, s.Issuer+"/authorize?") {
			t.Errorf("the error page moved to %s", loc)
		}
		if shown := c.Text(`.detail code`); !strings.Contains(shown, evil) {
			t.Errorf("the refused address is shown as %q, want %q", shown, evil)
		}
		if n := Value(c, chromedp.Evaluate[int](`document.querySelectorAll('a[href^="https://evil.example"]').length`)); n != 0 {
			t.Errorf("the error page links to the refused address (%d links)", n)
		}
	}
}
