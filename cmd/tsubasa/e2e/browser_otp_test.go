package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"tsubasa/provider/notify/notifytest"
	"tsubasa/provider/otp"
)

// pictoLineRe is one pictogram line of the code mail: "1. 🍎 (りんご)".
var pictoLineRe = regexp.MustCompile(`(?m)^(\d+)\. (\S+) \(([^)]+)\)\s*$`)

// TestBrowserOTPPictogram: with pictograms for the login's code, the code
// page shows one radio group per position with the 32 pictograms, each
// symbol with its word; the member picks the pictograms from the mail, by
// mouse and by keyboard (arrow keys within a group, no JavaScript needed),
// and lands on the account page. It runs at a phone's width.
func TestBrowserOTPPictogram(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Host: "localhost", Extra: "otp:\n  on_login: always\n  formats:\n    login: pictogram\n"}
	_, o.SMTPPort = smtp.Addr()
	s := StartWithMember(t, o)
	c := NewChrome(t)

	// A phone's width: the grid must wrap, never scroll sideways.
	c.Do(chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.Issuer+"/account"), waitURL(s.Issuer+"/login"))
	c.LoginForm(MemberNumber, MemberPass)
	c.Do(waitURL(s.Issuer+"/login/otp"), chromedp.WaitVisible(chromedp.CSS(`fieldset.picto-pos`)))
	c.Shot("pictogram-page-360px")
	scrollW := Value(c, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	clientW := Value(c, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
	if scrollW > clientW {
		t.Errorf("the code page scrolls sideways at 360px: scrollWidth %d > %d", scrollW, clientW)
	}

	groups := Value(c, chromedp.Evaluate[int](`document.querySelectorAll('fieldset.picto-pos').length`))
	radios := Value(c, chromedp.Evaluate[int](`document.querySelectorAll('fieldset.picto-pos input[type=radio]').length`))
	if groups != 4 || radios != 4*32 {
		t.Fatalf("grid: %d groups, %d radios; want 4 groups of 32", groups, radios)
	}
	if got := c.Text(`fieldset.picto-pos label.picto .word`); got != "apple" {
		t.Errorf("first pictogram's word (English page) %q, want apple", got)
	}

	mail := smtp.WaitFor(t, func(m notifytest.ReceivedMail) bool { return pictoLineRe.MatchString(m.Text) }, 20*time.Second)
	lines := pictoLineRe.FindAllStringSubmatch(mail.Text, -1)
	if len(lines) != 4 {
		t.Fatalf("mail has %d pictogram lines, want 4:\n%s", len(lines), mail.Text)
	}
	index := map[string]int{}
	for _, p := range otp.Pictograms("en") {
		index[p.Symbol] = p.Index
	}
	for i, l := range lines {
		idx, ok := index[l[2]]
		if !ok {
			t.Fatalf("mail pictogram %q is not in the set", l[2])
		}
		name := fmt.Sprintf("p%d", i+1)
		if i < len(lines)-1 {
			// Mouse: click the pictogram's label (symbol and word).
			c.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`label.picto:has(input[name=%q][value="%d"])`, name, idx))))
			continue
		}
		// Keyboard: focus the group's first radio, then arrow to the pictogram.
		c.Do(chromedp.Focus(chromedp.CSS(fmt.Sprintf(`input[name=%q][value="0"]`, name))))
		c.Do(chromedp.KeyEvent(" ")) // select the focused radio
		for range idx {
			c.Do(chromedp.KeyEvent(kb.ArrowRight))
		}
	}
	for i, l := range lines {
		sel := fmt.Sprintf(`document.querySelector('input[name="p%d"]:checked')?.value ?? ''`, i+1)
		if got, want := Value(c, chromedp.Evaluate[string](sel)), fmt.Sprint(index[l[2]]); got != want {
			t.Errorf("position %d: chosen %q, want %s (%s)", i+1, got, want, l[3])
		}
	}
	c.Shot("pictograms-chosen")
	c.Do(chromedp.Click(chromedp.CSS(`form.otp-form button[type=submit]`)), waitURL(s.Issuer+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`dl.profile`)))
	c.Shot("account-after-pictograms")
	if loc := c.Location(); !strings.HasPrefix(loc, s.Issuer+"/account") {
		t.Errorf("after the pictograms at %s", loc)
	}
}
