package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tsubasa/provider/notify/notifytest"
)

// demoClaims reads the ID token claims the demo app shows.
func (c *Chrome) demoClaims() idClaims {
	c.t.Helper()
	c.Do(chromedp.WaitVisible(chromedp.CSS(`pre`)))
	raw := c.Text(`pre`)
	var claims idClaims
	if err := json.Unmarshal([]byte(raw), &claims); err != nil {
		c.t.Fatalf("demo app claims are not JSON: %v\n%s", err, raw)
	}
	return claims
}

// TestBrowserPINMigration: a member who has only the legacy 6-digit PIN
// logs in to the demo app with it (in Japanese), must set a password first,
// is told which rules a weak one breaks, sets a good one and lands at the
// app with amr pin.
func TestBrowserPINMigration(t *testing.T) {
	const number, pin = "8888888", "135790"
	s := devServer(t)
	s.CLI(t, false, "member", "create", "--number", number, "--pin", pin, "--family-name", "山田", "--given-name", "太郎")
	c := NewChrome(t)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"),
		chooseLang("ja"), chromedp.WaitVisible(chromedp.CSS(`nav.lang span[lang="ja"]`)))
	c.Shot("login-ja")
	c.LoginForm(number, pin)
	c.Do(waitURL(s.Issuer+"/login/password"), chromedp.WaitVisible(chromedp.CSS(`#new_password`)))
	c.Shot("set-password")
	if h := c.Text("h1"); h != "新しいパスワードの設定" {
		t.Errorf("set-password heading %q", h)
	}
	setPassword := func(pw string) {
		c.Do(chromedp.SendKeys(chromedp.CSS(`#new_password`), pw), chromedp.SendKeys(chromedp.CSS(`#confirm_password`), pw),
			chromedp.Submit(chromedp.CSS(`#new_password`)))
	}
	setPassword("yamada")
	c.Do(chromedp.WaitVisible(chromedp.CSS(`ul.failed li`)))
	c.Shot("set-password-policy-error")
	if alert := c.Text(`main .alert`); strings.TrimSpace(alert) == "" {
		t.Error("a refused password announces nothing in the alert region")
	}
	if n := Value(c, chromedp.Evaluate[int](`document.querySelectorAll('ul.failed li').length`)); n == 0 {
		t.Error("the page does not say which rules the password breaks")
	}
	setPassword("Kumo-Sora-77")
	c.Do(waitURL(s.Issuer + "/demo/callback"))
	claims := c.demoClaims()
	c.Shot("demo-claims-after-pin")
	if !slices.Contains(claims.AMR, "pin") || claims.ACR != "urn:tsubasa:acr:pwd" {
		t.Errorf("after the PIN login amr %v acr %q, want pin and pwd", claims.AMR, claims.ACR)
	}
}

// browserCodeRe is the 6-digit code line of a one-time-password mail.
var browserCodeRe = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// mailedCode waits for the code mail after the first seen ones and returns its code.
func mailedCode(t *testing.T, smtp *notifytest.SMTPServer, seen int) string {
	t.Helper()
	var codes []string
	smtp.WaitFor(t, func(notifytest.ReceivedMail) bool {
		codes = codes[:0]
		for _, m := range smtp.Messages() {
			if c := browserCodeRe.FindStringSubmatch(m.Text); c != nil {
				codes = append(codes, c[1])
			}
		}
		return len(codes) > seen
	}, 20*time.Second)
	return codes[len(codes)-1]
}

// TestBrowserOTPLogin: with a one-time password on every login, the member
// logs in to the demo app with the password, types a wrong code (the page
// says how many tries are left), then the code from the mail, and the app
// gets acr otp.
func TestBrowserOTPLogin(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Host: "localhost", Extra: "dev: true\notp:\n  on_login: always\n"}
	_, o.SMTPPort = smtp.Addr()
	s := StartWithMember(t, o)
	c := NewChrome(t)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"))
	c.Shot("login")
	c.LoginForm(MemberNumber, MemberPass)
	c.Do(waitURL(s.Issuer+"/login/otp"), chromedp.WaitVisible(chromedp.CSS(`input[name="otp"][autocomplete="one-time-code"]`)))
	code := mailedCode(t, smtp, 0)
	c.Shot("otp-sent")
	if where := c.Text(`#otp-where`); !strings.Contains(where, "@") {
		t.Errorf("the code page does not say where the code went: %q", where)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	c.Do(chromedp.SendKeys(chromedp.CSS(`#otp`), wrong), chromedp.Submit(chromedp.CSS(`#otp`)),
		chromedp.WaitVisible(chromedp.CSS(`main .alert .error`)))
	c.Shot("otp-wrong-code")
	if msg := c.Text(`main .alert .error`); !strings.Contains(msg, "incorrect") {
		t.Errorf("wrong code message %q", msg)
	}
	if v := Value(c, chromedp.Evaluate[string](`document.getElementById('otp').value`)); v != "" {
		t.Errorf("the code field keeps the wrong code %q", v)
	}
	c.Do(chromedp.SendKeys(chromedp.CSS(`#otp`), code), chromedp.Submit(chromedp.CSS(`#otp`)),
		waitURL(s.Issuer+"/demo/callback"))
	claims := c.demoClaims()
	c.Shot("demo-claims-otp")
	if claims.ACR != "urn:tsubasa:acr:otp" || !slices.Contains(claims.AMR, "otp") || !slices.Contains(claims.AMR, "pwd") {
		t.Errorf("after the code: acr %q amr %v, want otp with pwd+otp", claims.ACR, claims.AMR)
	}
}

// partnerApp is a third-party app's redirect URI in the test: it records
// what the provider sent and shows "ok".
type partnerApp struct {
	srv  *httptest.Server
	mu   sync.Mutex
	last url.Values
}

func newPartnerApp(t *testing.T) *partnerApp {
	p := &partnerApp{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" { // the browser's /favicon.ico
			http.NotFound(w, r)
			return
		}
		p.mu.Lock()
		p.last = r.URL.Query()
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><title>Partner</title><h1 id="ok">ok</h1></html>`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// callback is the URL the app was last called at.
func (p *partnerApp) callback() *url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, _ := url.Parse(p.srv.URL + "/cb")
	u.RawQuery = p.last.Encode()
	return u
}

var consentSecretRe = regexp.MustCompile(`(?m)^Client secret: (\S+)$`)

// TestBrowserThirdPartyConsent: an app registered with `client add
// --third-party` asks for the member's profile, email and number; the
// member reads the consent page (switching it to Japanese), allows it and
// the app gets a code it can redeem; the app then shows under linked apps
// with the date it was linked, in both languages; the member unlinks it,
// and the next request asks again and is declined.
func TestBrowserThirdPartyConsent(t *testing.T) {
	app := newPartnerApp(t)
	s := StartWithMember(t, Options{Host: "localhost"})
	out := s.CLI(t, false, "client", "add", "--id", "sora-hotels", "--name", "Sora Hotels", "--third-party",
		"--redirect-uri", app.srv.URL+"/cb", "--policy-uri", "https://sora-hotels.example/privacy")
	m := consentSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	rp := NewRP(t, s, "sora-hotels", m[1], "openid", "profile", "email", "membership")
	rp.OAuth.RedirectURL = app.srv.URL + "/cb"
	c := NewChrome(t)

	f := NewFlow()
	c.Do(chromedp.Navigate(rp.AuthURL(f)), waitURL(s.Issuer+"/login"))
	c.Shot("login-for-partner")
	if lead := c.Text(`main p.lead`); !strings.Contains(lead, "Sora Hotels") {
		t.Errorf("login page does not name the app: %q", lead)
	}
	c.LoginForm(MemberNumber, MemberPass)
	// The consent page speaks the member's language (Japanese); the member
	// switches it to English.
	c.Do(waitURL(s.Issuer+"/login/consent"), chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)))
	c.Shot("consent-ja")
	if h := c.Text("h1"); h != "アプリ連携の確認" {
		t.Errorf("consent heading in the member's language: %q", h)
	}
	before := c.Location()
	c.Do(chooseLang("en"), chromedp.WaitVisible(chromedp.CSS(`nav.lang span[lang="en"]`)))
	c.Shot("consent-en")
	if c.Location() != before {
		t.Errorf("switching language left the consent page: %s", c.Location())
	}
	consent := Value(c, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"Sora Hotels", "Your email address", "Sora Hotels privacy policy", "Allow"} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent page lacks %q:\n%s", want, consent)
		}
	}
	c.Do(chromedp.Click(chromedp.CSS(`button[value="approve"]`)), waitURL(app.srv.URL+"/cb"), chromedp.WaitVisible(chromedp.CSS(`#ok`)))
	c.Shot("partner-ok")
	if _, _, err := rp.Exchange(t.Context(), f, app.callback()); err != nil {
		t.Fatalf("the app could not redeem its code: %v", err)
	}

	// Linked apps, in English (the language chosen above), then Japanese.
	c.Do(chromedp.Navigate(s.Issuer+"/account/apps"), chromedp.WaitVisible(chromedp.CSS(`section.app`)))
	c.Shot("linked-apps-en")
	checkDate(t, "en", "linked since", c.Text(`section.app p.help`), dateEnLong)
	c.Do(chromedp.Navigate(s.Issuer+"/account/apps?lang=ja"), chromedp.WaitVisible(chromedp.CSS(`section.app`)))
	c.Shot("linked-apps-ja")
	checkDate(t, "ja", "linked since", c.Text(`section.app p.help`), dateJa)
	c.Do(chromedp.Click(chromedp.CSS(`form[action="/account/apps/unlink"] button`)), waitURL(s.Issuer+"/account/apps"),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	c.Shot("app-unlinked")
	if n := Value(c, chromedp.Evaluate[int](`document.querySelectorAll('section.app').length`)); n != 0 {
		t.Errorf("%d apps listed after unlinking", n)
	}

	// Unlinked, the app must ask again; this time the member declines.
	f = NewFlow()
	c.Do(chromedp.Navigate(rp.AuthURL(f)), waitURL(s.Issuer+"/login/consent"), chromedp.WaitVisible(chromedp.CSS(`button[value="deny"]`)))
	c.Shot("consent-again")
	c.Do(chromedp.Click(chromedp.CSS(`button[value="deny"]`)), waitURL(app.srv.URL+"/cb"), chromedp.WaitVisible(chromedp.CSS(`#ok`)))
	if q := app.callback().Query(); q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != f.State {
		t.Errorf("declining answered the app with %v", q)
	}
}
