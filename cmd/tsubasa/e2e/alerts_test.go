package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/provider/notify/notifytest"
)

// The browsers of the alert tests, told apart by their User-Agent.
const (
	uaWindowsChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaIPhoneSafari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaMacFirefox    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0"

	alertSubject = "[Tsubasa]新しいご利用環境からログインがありました/Login from new device"
	memberEmail  = "hanako@example.com"
	maskedNumber = "****321" // MemberNumber 7654321 with all but the last three digits hidden
)

// uaTransport makes a Browser send a fixed User-Agent.
type uaTransport struct{ ua string }

func (t uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return http.DefaultTransport.RoundTrip(r)
}

// newDevice is a fresh browser (its own cookie jar) with a User-Agent.
func newDevice(t *testing.T, s *Server, ua string) *Browser {
	b := NewBrowser(t, s)
	b.Transport = uaTransport{ua: ua}
	return b
}

// startWithMail starts a server whose mail goes to a recording SMTP server,
// with the test member. One-time passwords at login are off: these tests
// are about what follows a login.
func startWithMail(t *testing.T, smtp *notifytest.SMTPServer, o Options) *Server {
	t.Helper()
	_, o.SMTPPort = smtp.Addr()
	o.Extra += "otp:\n  on_login: never\n"
	return StartWithMember(t, o)
}

// alerts are the login alerts received so far.
func alerts(smtp *notifytest.SMTPServer) []notifytest.ReceivedMail {
	var out []notifytest.ReceivedMail
	for _, m := range smtp.Messages() {
		if m.Subject == alertSubject {
			out = append(out, m)
		}
	}
	return out
}

// waitAlert waits for a login alert naming browser ("[Browser] chrome").
func waitAlert(t *testing.T, smtp *notifytest.SMTPServer, browser string, timeout time.Duration) notifytest.ReceivedMail {
	t.Helper()
	m := smtp.WaitFor(t, func(m notifytest.ReceivedMail) bool {
		return m.Subject == alertSubject && strings.Contains(lf(m.Text), "[Browser] "+browser+"\n")
	}, timeout)
	m.Text = lf(m.Text)
	return m
}

// lf turns the mail's CRLF line ends into LF.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// TestLoginAlerts: the first login from a browser queues a bilingual alert
// that the worker delivers; the same browser again does not; another
// browser does. The member sees the logins and both devices, signs the
// other device out (its session and refresh token end, this one's do not),
// and finally reports "this wasn't me", which ends everything and makes the
// next login set a new password. The events command shows it all.
func TestLoginAlerts(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	s := startWithMail(t, smtp, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")

	a := newDevice(t, s, uaWindowsChrome)
	tokA := LoginRP(t, rp, a)
	mail := waitAlert(t, smtp, "chrome", 30*time.Second)
	if len(mail.To) != 1 || mail.To[0] != memberEmail {
		t.Errorf("alert sent to %v, want %s", mail.To, memberEmail)
	}
	for _, want := range []string{
		"[Member No.] " + maskedNumber + "\n", "(JST)", "[Device] Windows(desktop)\n", "[Browser] chrome\n",
		"[IP address] 127.0.0.1\n", "新しいご利用環境からログインがありました", "We have detected a login",
		"(English version)", "VPN", s.Issuer + "/account/password", s.Issuer + "/account/not-me",
	} {
		if !strings.Contains(mail.Text, want) {
			t.Errorf("alert text lacks %q:\n%s", want, mail.Text)
		}
	}
	if strings.Contains(mail.Text+mail.HTML, MemberNumber) {
		t.Error("the alert shows the whole member number")
	}

	// The same browser again (a real password login, not SSO): known.
	LoginRP(t, rp, a, oauth2.SetAuthURLParam("prompt", "login"))
	// Another browser: new. The worker sends in order, so once this alert
	// is in, any alert for the login above would be in too.
	b := newDevice(t, s, uaIPhoneSafari)
	tokB := LoginRP(t, rp, b)
	waitAlert(t, smtp, "safari", 30*time.Second)
	if n := len(alerts(smtp)); n != 2 {
		t.Fatalf("%d alerts after a new, a known and another new login, want 2", n)
	}

	// A failed attempt shows in the history too.
	c := newDevice(t, s, uaMacFirefox)
	p := c.Get(t, rp.AuthURL(NewFlow()))
	c.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {"Not-the-password-1"}})

	history := accountPage(t, a, smtp, s.Issuer+"/account/history")
	for _, want := range []string{"Windows", "iPhone", "Chrome 126.0.0.0", "Safari 17.5", "127.0.0.1", "パスワード", "失敗", "成功", "JST"} {
		if !strings.Contains(history.Body, want) {
			t.Errorf("history page lacks %q", want)
		}
	}
	if n := strings.Count(history.Body, `class="login ok"`); n < 3 {
		t.Errorf("history lists %d successful logins, want at least 3", n)
	}

	devices := accountPage(t, a, smtp, s.Issuer+"/account/devices")
	ids := deviceIDs(devices.Body)
	if len(ids) != 2 || ids["iPhone"] == "" || ids["Windows"] == "" {
		t.Fatalf("devices page lists %v, want the Windows and the iPhone browser:\n%s", ids, devices.Body)
	}

	// Sign the iPhone out from the Windows browser.
	out := a.Post(t, devices.URL, "/account/devices/"+ids["iPhone"]+"/signout", nil)
	if out.URL.Path != "/account/devices" || !strings.Contains(out.Body, `role="status"`) {
		t.Fatalf("sign out device: status %d at %s", out.Status, out.URL)
	}
	if strings.Contains(out.Body, "iPhone") {
		t.Error("the signed-out device is still listed")
	}
	if p := b.Get(t, s.Issuer+"/account"); !strings.HasPrefix(p.URL.Path, "/login") {
		t.Errorf("the signed-out browser still reaches /account (at %s)", p.URL)
	}
	if _, err := Refresh(t, rp, tokB.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("the signed-out device's refresh token: %v, want invalid_grant", err)
	}
	if p := a.Get(t, s.Issuer+"/account"); p.URL.Path != "/account" {
		t.Errorf("the other browser was signed out too (at %s)", p.URL)
	}
	tokA2, err := Refresh(t, rp, tokA.RefreshToken)
	if err != nil {
		t.Fatalf("the other browser's refresh token: %v", err)
	}

	// "This wasn't me": a confirmation page, then everything ends and the
	// next login must set a new password.
	confirm := accountPage(t, a, smtp, s.Issuer+"/account/not-me")
	if !strings.Contains(confirm.Body, `action="/account/not-me"`) {
		t.Fatalf("not-me page has no confirmation form:\n%s", confirm.Body)
	}
	done := a.Post(t, confirm.URL, "/account/not-me", nil)
	if !strings.HasPrefix(done.URL.Path, "/login") {
		t.Fatalf("after not-me the browser must log in again, got %d at %s", done.Status, done.URL)
	}
	if _, err := Refresh(t, rp, tokA2.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Errorf("refresh token after not-me: %v, want invalid_grant", err)
	}
	res := a.Post(t, done.URL, "/login", url.Values{"authRequestID": {done.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if res.URL.Path != "/login/password" || !strings.Contains(res.Body, `autocomplete="new-password"`) {
		t.Fatalf("login after not-me must ask for a new password, got %d at %s", res.Status, res.URL)
	}
	// The new password is stored once the one-time password, owed after
	// "this wasn't me" whatever otp.on_login says, has been given.
	codes := len(CodeMails(smtp))
	set := a.Post(t, res.URL, "/login/password", url.Values{"authRequestID": {res.AuthRequestID(t)}, "new_password": {"Aozora-Tsubasa-27"}, "confirm_password": {"Aozora-Tsubasa-27"}})
	if set.URL.Path != "/login/otp" {
		t.Fatalf("after choosing the new password: status %d at %s, want the one-time password", set.Status, set.URL)
	}
	_, code := MailCode(t, smtp, codes+1)
	home := a.Post(t, set.URL, "/login/otp", url.Values{"authRequestID": {set.AuthRequestID(t)}, "otp": {code}})
	if home.URL.Path != "/account" || !strings.Contains(home.Body, `role="status"`) {
		t.Errorf("after the new password and the code: status %d at %s", home.Status, home.URL)
	}

	events := s.CLI(t, false, "events", "--member", MemberNumber, "--limit", "100")
	for _, want := range []string{"login.succeeded", "alert=queued", "environment=known", "login.failed", "not_me.reported", "sessions.revoked", "scope=device", "JST"} {
		if !strings.Contains(events, want) {
			t.Errorf("tsubasa events lacks %q:\n%s", want, events)
		}
	}
	var js struct {
		Events []struct{ Type string } `json:"events"`
	}
	if err := json.Unmarshal([]byte(s.CLI(t, false, "events", "--member", MemberNumber, "--limit", "3", "--json")), &js); err != nil || len(js.Events) != 3 {
		t.Errorf("events --json --limit 3: %d events, %v", len(js.Events), err)
	}
}

// accountPage opens an account page of a logged-in browser. Pages that
// show member information take a step-up when one-time passwords are on:
// then the password (if asked again) and the code mailed to the member are
// given, as the member would.
func accountPage(t *testing.T, b *Browser, smtp *notifytest.SMTPServer, u string) Page {
	t.Helper()
	codes := len(CodeMails(smtp))
	p := b.Get(t, u)
	if p.URL.Path == "/login" {
		p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	}
	if p.URL.Path == "/login/otp" {
		_, code := MailCode(t, smtp, codes+1)
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
	}
	if p.Status != http.StatusOK || !strings.HasPrefix(p.URL.String(), u) {
		t.Fatalf("%s: status %d at %s\n%s", u, p.Status, p.URL, p.Body)
	}
	return p
}

var deviceSectionRe = regexp.MustCompile(`(?s)<section class="card device" aria-label="([^"]*)">.*?action="/account/devices/([^"/]+)/signout"`)

// deviceIDs maps "iPhone", "Windows" … to the device ids on the devices page.
func deviceIDs(body string) map[string]string {
	out := map[string]string{}
	for _, m := range deviceSectionRe.FindAllStringSubmatch(body, -1) {
		for _, name := range []string{"iPhone", "Windows", "Mac"} {
			if strings.Contains(m[1], name) {
				out[name] = m[2]
			}
		}
	}
	return out
}

// TestAlertSurvivesMailOutageAndCrash: with the mail server down a login
// still completes at once, and its alert goes out once the server is back;
// an alert queued just before the process is killed goes out after the
// restart.
func TestAlertSurvivesMailOutageAndCrash(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	s := startWithMail(t, smtp, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789")

	smtp.Stop()
	start := time.Now()
	LoginRP(t, rp, newDevice(t, s, uaWindowsChrome))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("login with the mail server down took %v; it must not wait for mail", took)
	}
	time.Sleep(500 * time.Millisecond) // the worker's first try fails now
	smtp.Start()
	waitAlert(t, smtp, "chrome", 60*time.Second)

	// Queue an alert with the mail server down, then kill the process.
	smtp.Stop()
	LoginRP(t, rp, newDevice(t, s, uaIPhoneSafari))
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	smtp.Start()
	port := 0
	if _, err := fmt.Sscanf(s.Issuer[strings.LastIndexByte(s.Issuer, ':')+1:], "%d", &port); err != nil {
		t.Fatal(err)
	}
	startWithMailDir(t, smtp, Options{Dir: s.Dir, Port: port})
	// The killed process may have claimed the alert: it is sent once the
	// claim's lease (about 45 s) runs out.
	waitAlert(t, smtp, "safari", 120*time.Second)
	if n := len(alerts(smtp)); n != 2 {
		t.Errorf("%d alerts, want 2 (each exactly once)", n)
	}
}

// startWithMailDir restarts a server on an existing database.
func startWithMailDir(t *testing.T, smtp *notifytest.SMTPServer, o Options) *Server {
	t.Helper()
	_, o.SMTPPort = smtp.Addr()
	o.Extra += "otp:\n  on_login: never\n"
	return Start(t, o)
}
