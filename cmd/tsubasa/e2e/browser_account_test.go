package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tsubasa/provider/notify/notifytest"
)

// Dates and times as the account pages show them: Japanese with 年月日,
// English day-month-year (short month with a time, the full month for a
// date alone).
var (
	dateJa     = regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日$`)
	dateTimeJa = regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$`)
	dateEnLong = regexp.MustCompile(`^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$`)
	dateTimeEn = regexp.MustCompile(`^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}$`)
	// anyDate finds a date in a sentence ("Linked since …").
	anyDate = regexp.MustCompile(`\d{4}年\d{1,2}月\d{1,2}日|\d{1,2} [A-Z][a-z]+ \d{4}`)
)

// checkDate asserts that text is, or holds, a date in lang's format.
func checkDate(t *testing.T, lang, what, text string, re *regexp.Regexp) {
	t.Helper()
	text = strings.TrimSpace(text)
	if !re.MatchString(text) {
		if d := anyDate.FindString(text); d == "" || !re.MatchString(d) {
			t.Errorf("%s (%s): %q is not a %s date (%s)", what, lang, text, lang, re)
		}
	}
}

// accountPages are the "Manage your account" pages a member visits, with
// an element each shows once rendered.
var accountPages = []struct{ name, path, ready string }{
	{"home", "/account", "dl.profile"},
	{"password", "/account/password", "#new_password"},
	{"contacts", "/account/contacts", "#email"},
	{"history", "/account/history", "li.login"},
	{"devices", "/account/devices", "section.device"},
	{"apps", "/account/apps", "main .card"},
	{"passkeys", "/account/passkeys", "#passkey-new"},
}

// TestBrowserAccountPages: the member opens the account pages (the login
// history asks for a one-time password first), changes the password
// (a weak one is refused with the rules), and sees every page at a
// desktop's width and at 320 px, in English and Japanese, with dates and
// times in each language's format.
func TestBrowserAccountPages(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Host: "localhost"}
	_, o.SMTPPort = smtp.Addr()
	s := StartWithMember(t, o)
	c := NewChrome(t)

	// The history needs a fresh one-time password: password, then the mailed code.
	c.Do(chromedp.Navigate(s.Issuer+"/account/history?lang=en"), waitURL(s.Issuer+"/login"))
	c.LoginForm(MemberNumber, MemberPass)
	c.Do(waitURL(s.Issuer+"/login/otp"), chromedp.WaitVisible(chromedp.CSS(`#otp`)))
	code := mailedCode(t, smtp, 0)
	c.Shot("step-up-code")
	c.Do(chromedp.SendKeys(chromedp.CSS(`#otp`), code), chromedp.Submit(chromedp.CSS(`#otp`)),
		waitURL(s.Issuer+"/account/history"), chromedp.WaitVisible(chromedp.CSS(`li.login`)))

	// Change the password: a weak one first.
	c.Do(chromedp.Navigate(s.Issuer+"/account/password"), chromedp.WaitVisible(chromedp.CSS(`#new_password`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), MemberPass),
		chromedp.SendKeys(chromedp.CSS(`#new_password`), "sora"), chromedp.SendKeys(chromedp.CSS(`#confirm_password`), "sora"),
		chromedp.Submit(chromedp.CSS(`#new_password`)), chromedp.WaitVisible(chromedp.CSS(`ul.failed li`)))
	c.Shot("password-refused")
	c.Do(chromedp.SendKeys(chromedp.CSS(`#password`), MemberPass),
		chromedp.SendKeys(chromedp.CSS(`#new_password`), "Aozora-Hikou-27"), chromedp.SendKeys(chromedp.CSS(`#confirm_password`), "Aozora-Hikou-27"),
		chromedp.Submit(chromedp.CSS(`#new_password`)), waitURL(s.Issuer+"/account"), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	c.Shot("password-changed")

	for _, view := range []struct {
		name string
		set  chromedp.Action[chromedp.Void]
	}{
		{"desktop", chromedp.EmulateViewport(1280, 900)},
		{"320px", chromedp.EmulateViewport(320, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile)},
	} {
		c.Do(view.set)
		for _, lang := range []string{"en", "ja"} {
			c.Do(chromedp.Navigate(s.Issuer + "/account?lang=" + lang))
			for _, p := range accountPages {
				c.Do(chromedp.Navigate(s.Issuer+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
				c.Shot(view.name + "-" + lang + "-" + p.name)
				if got := Value(c, chromedp.Evaluate[string](`document.documentElement.lang`)); got != lang {
					t.Errorf("%s after choosing %s is in %q", p.path, lang, got)
				}
			}
			checkAccountDates(t, c, s, lang)
		}
	}
}

// checkAccountDates reads the dates of the history and devices pages.
func checkAccountDates(t *testing.T, c *Chrome, s *Server, lang string) {
	t.Helper()
	want := dateTimeEn
	if lang == "ja" {
		want = dateTimeJa
	}
	// The <dd> after a <dt>: the history's first column is the time.
	c.Do(chromedp.Navigate(s.Issuer+"/account/history"), chromedp.WaitVisible(chromedp.CSS(`li.login`)))
	checkDate(t, lang, "history", c.Text(`li.login dl.profile dd`), want)
	c.Do(chromedp.Navigate(s.Issuer+"/account/devices"), chromedp.WaitVisible(chromedp.CSS(`section.device`)))
	for i, what := range []string{"device first seen", "device last seen"} {
		dd := Value(c, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelectorAll('section.device dl.profile dd')[%d].textContent`, i+1)))
		checkDate(t, lang, what, dd, want)
	}
}
