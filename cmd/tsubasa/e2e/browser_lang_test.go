package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// menuLanguages are the languages the menu offers by default, each named
// in itself, with the login page's heading in it.
var menuLanguages = []struct{ code, name, heading string }{
	{"ja", "日本語", "会員ログイン"},
	{"en", "English", "Member login"},
	{"zh-Hans", "简体中文", "会员登录"},
	{"zh-Hant", "繁體中文", "會員登入"},
	{"ko", "한국어", "회원 로그인"},
}

// TestBrowserLanguageMenu: at 320 px the language menu is one compact
// control naming the current language; opened, it lists the five
// languages each in itself, inside the screen, the current one marked;
// choosing one reloads the same page of the flow in it. It works the
// same with JavaScript off (a disclosure, no script).
func TestBrowserLanguageMenu(t *testing.T) {
	s := devServer(t)
	for _, js := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", js), func(t *testing.T) {
			c := NewChrome(t)
			c.Do(chromedp.EmulateViewport(320, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile),
				chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`nav.lang`)))
			if !js {
				c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
					_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
					return err
				})
				c.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`nav.lang summary`)))
			}
			login := c.Location()
			for _, l := range menuLanguages {
				if closed := Value(c, chromedp.Evaluate[bool](`!document.querySelector('nav.lang details').open`)); !closed {
					t.Errorf("the menu is open before it is touched")
				}
				c.Do(chromedp.Click(chromedp.CSS(`nav.lang summary`)), chromedp.WaitVisible(chromedp.CSS(`nav.lang ul`)))
				// The open menu is a state of the page, not a page: its
				// text and contrast are checked here, the page's focus
				// order on every page the loop shoots closed.
				c.Picture("menu-open-" + l.code)
				if problems := Value(c, chromedp.Evaluate[[]string](a11yScript(a11yPage))); len(problems) > 0 {
					t.Errorf("the open menu: %s", strings.Join(problems, "; "))
				}
				box := Value(c, chromedp.Evaluate[[]float64](`(function () { var r = document.querySelector('nav.lang ul').getBoundingClientRect(); return [r.left, r.right, document.documentElement.clientWidth]; })()`))
				if box[0] < 0 || box[1] > box[2]+0.5 {
					t.Errorf("the open menu spans %.0f–%.0f px of a %.0f px screen", box[0], box[1], box[2])
				}
				names := Value(c, chromedp.Evaluate[string](`Array.prototype.map.call(document.querySelectorAll('nav.lang li'), function (li) { return li.textContent.trim(); }).join('|')`))
				if want := "日本語|English|简体中文|繁體中文|한국어"; strings.ReplaceAll(names, "✓", "") != want {
					t.Errorf("the menu lists %q, want %q", names, want)
				}
				if l.code == Value(c, chromedp.Evaluate[string](`document.documentElement.lang`)) {
					// The current language is marked, not a link.
					c.Do(chromedp.Click(chromedp.CSS(`nav.lang summary`)))
					continue
				}
				c.Do(chromedp.Click(chromedp.CSS(`nav.lang a[hreflang="`+l.code+`"]`)), waitText("h1", l.heading))
				c.Shot("login-" + l.code + "-320px")
				if got := Value(c, chromedp.Evaluate[string](`document.documentElement.lang`)); got != l.code {
					t.Errorf("after choosing %s the page is lang=%q", l.name, got)
				}
				if got := c.Text(`nav.lang summary`); !strings.Contains(got, l.name) {
					t.Errorf("the closed menu shows %q, want %s", got, l.name)
				}
				if cur := Value(c, chromedp.Evaluate[string](`document.querySelector('nav.lang [aria-current]').getAttribute('lang')`)); cur != l.code {
					t.Errorf("the menu marks %q as current, want %s", cur, l.code)
				}
				if c.Location() != login {
					t.Errorf("choosing %s left the login page: %s", l.name, c.Location())
				}
			}
		})
	}
}
