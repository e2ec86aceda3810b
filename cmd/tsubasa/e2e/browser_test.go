package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chrome is a headless Chromium driven over CDP with chromedp. Screenshots
// go to the test's artifact directory: run with
// `go test -artifacts -outputdir DIR ./cmd/tsubasa/e2e -run Browser` to keep them.
type Chrome struct {
	t     *testing.T
	ctx   context.Context
	shots int
}

// NewChrome starts a fresh headless browser (new profile) for one test.
func NewChrome(t *testing.T) *Chrome {
	t.Helper()
	return &Chrome{t: t, ctx: StartChromium(t)}
}

// Do performs steps, failing the test (with a screenshot) on error.
func (c *Chrome) Do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.Shot("failure")
		c.t.Fatalf("browser at %s: %v", c.Location(), err)
	}
}

// Value runs one action that returns a value.
func Value[T any](c *Chrome, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.t.Fatalf("browser: %v", err)
	}
	return v
}

// Shot saves a full-page PNG named after the step and checks the page's
// accessibility (A11y), so every page a journey shows is checked. It
// returns the file's name in the artifact directory ("" if none was taken).
func (c *Chrome) Shot(name string) string {
	c.t.Helper()
	file := c.Picture(name)
	if file != "" && name != "failure" {
		c.A11y()
	}
	return file
}

// Picture saves a full-page PNG named after the step, without the
// accessibility check, and returns its file name in the artifact directory.
func (c *Chrome) Picture(name string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	// Right after a navigation the page may not be laid out yet.
	for {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete'`))
		if ready || err != nil || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	c.shots++
	file := fmt.Sprintf("%02d-%s.png", c.shots, name)
	if err := os.WriteFile(filepath.Join(c.t.ArtifactDir(), file), png, 0o644); err != nil {
		c.t.Errorf("save screenshot: %v", err)
	}
	return file
}

// Text returns the visible text of the first element matching a CSS selector.
func (c *Chrome) Text(sel string) string {
	c.t.Helper()
	return Value(c, chromedp.Text(chromedp.CSS(sel)))
}

// Location is the current URL.
func (c *Chrome) Location() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// LoginForm fills the member login form and submits it.
func (c *Chrome) LoginForm(number, password string) {
	c.t.Helper()
	c.Do(
		chromedp.WaitVisible(chromedp.CSS(`input[autocomplete~="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="member_number"]`), number),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"][autocomplete="current-password"]`), password),
	)
	c.Shot("login-filled")
	c.Do(chromedp.Submit(chromedp.CSS(`input[name="password"]`)))
}

// waitURL waits until the page's URL starts with prefix.
func waitURL(prefix string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err != nil {
				return err
			}
			if strings.HasPrefix(loc, prefix) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s, at %s: %w", prefix, loc, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// chooseLang picks a language from the page's language menu: open it,
// then follow the language's link (a disclosure, so it works with
// JavaScript off too).
func chooseLang(lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Click(chromedp.CSS(`nav.lang summary`))(ctx, t); err != nil {
			return err
		}
		_, err := chromedp.Click(chromedp.CSS(`nav.lang a[lang="`+lang+`"]`))(ctx, t)
		return err
	})
}
