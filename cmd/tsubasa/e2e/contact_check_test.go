package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"
)

const (
	checkNumber = "5678901"
	checkPass   = "Tsubasa-Check-2026"
	checkEmail  = "tsubasa.check@example.com"
)

// linkRe finds a test message's "received it" link.
var linkRe = regexp.MustCompile(`https?://[^\s"<>]+/account/contacts/received\?t=[A-Za-z0-9._%-]+`)

// testLink waits for a message with a "received it" link after the first
// seen ones and returns the link.
func testLink(t *testing.T, smtp *notifytest.SMTPServer, seen int) (notifytest.ReceivedMail, string) {
	t.Helper()
	var link string
	var got notifytest.ReceivedMail
	smtp.WaitFor(t, func(notifytest.ReceivedMail) bool {
		msgs := smtp.Messages()
		for i := len(msgs) - 1; i >= seen; i-- {
			if l := linkRe.FindString(lf(msgs[i].Text)); l != "" {
				got, link = msgs[i], l
				return true
			}
		}
		return false
	}, 20*time.Second)
	return got, link
}

// confirmLink opens a link as a mail client does (no login, no cookies of
// the member's) and presses the button; it returns the answer.
func confirmLink(t *testing.T, s *Server, link string) Page {
	t.Helper()
	b := NewBrowser(t, s)
	p := b.Get(t, link)
	if p.Status != http.StatusOK {
		return p
	}
	tok := regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if tok == nil {
		t.Fatalf("the link's page has no button:\n%s", p.Body)
	}
	return b.Post(t, p.URL, "/account/contacts/received", url.Values{"t": {tok[1]}})
}

// contactsLogin logs member number into the contacts page (password,
// then the step-up code by mail).
func contactsLogin(t *testing.T, s *Server, smtp *notifytest.SMTPServer, number string) (*Browser, Page) {
	t.Helper()
	b := NewBrowser(t, s)
	codes := len(CodeMails(smtp))
	p := b.Get(t, s.Issuer+"/account/contacts")
	p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {checkPass}})
	if p.URL.Path == "/login/otp" {
		_, code := MailCode(t, smtp, codes+1)
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
	}
	if p.URL.Path != "/account/contacts" {
		t.Fatalf("contacts page: %d at %s", p.Status, p.URL)
	}
	return b, p
}

// startContactCheck starts a server whose mail and SMS are recorded, with
// two members who have an address and a mobile number.
func startContactCheck(t *testing.T, extra string) (*Server, *notifytest.SMTPServer, *notifytest.SMSWebhook) {
	t.Helper()
	smtp := notifytest.NewSMTPServer(t)
	sms := notifytest.NewSMSWebhook(t)
	o := Options{SMSURL: sms.URL(), Extra: extra, Env: []string{"TSUBASA_SMS_SENDER=TSUBASA"}}
	_, o.SMTPPort = smtp.Addr()
	s := Start(t, o)
	for _, n := range []string{checkNumber, "5678902"} {
		s.CLI(t, false, "member", "create", "--number", n, "--password", checkPass, "--family-name", "確認",
			"--email", n+"@example.com", "--phone", "+81901234"+n[3:], "--country", "JP", "--locale", "en")
	}
	return s, smtp, sms
}

// TestContactTestMessage: on the contacts page the member sends a test
// email, sees the sender address and SMS sender to allow in filters,
// opens the "received it" link from the mail (without logging in), and
// the page then shows the date. A second send at once is throttled.
// Another member sends a test SMS and confirms it the same way.
func TestContactTestMessage(t *testing.T) {
	s, smtp, sms := startContactCheck(t, "")
	b, page := contactsLogin(t, s, smtp, checkNumber)
	for _, want := range []string{"Check that messages reach you", `&#34;no-reply@tsubasa.test&#34;`, `&#34;TSUBASA&#34;`, "Receipt not confirmed yet",
		`name="channel" value="email"`, `name="channel" value="sms"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("contacts page lacks %q", want)
		}
	}
	seen := len(smtp.Messages())
	p := b.Post(t, page.URL, "/account/contacts/test", url.Values{"channel": {"email"}})
	if p.URL.RawQuery != "done=test_email" || !strings.Contains(p.Body, "We have sent a test email") {
		t.Fatalf("after sending: %d at %s", p.Status, p.URL)
	}
	mail, link := testLink(t, smtp, seen)
	if mail.To[0] != checkNumber+"@example.com" || !strings.Contains(mail.Subject, "Test message") || !strings.Contains(mail.HTML, "I received this email") {
		t.Errorf("test mail to %v, subject %q", mail.To, mail.Subject)
	}
	if done := confirmLink(t, s, link); done.Status != http.StatusOK || !strings.Contains(done.Body, "we have noted that messages reach") {
		t.Errorf("confirming the mail: %d\n%s", done.Status, done.Body)
	}
	if p := b.Get(t, s.Issuer+"/account/contacts"); !strings.Contains(p.Body, "Receipt confirmed on") {
		t.Errorf("the contacts page does not show the confirmation:\n%s", p.Body)
	}
	p = b.Post(t, page.URL, "/account/contacts/test", url.Values{"channel": {"sms"}})
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "cannot be sent one right after another") || p.Header.Get("Retry-After") == "" {
		t.Errorf("a second test at once: %d", p.Status)
	}

	other, page := contactsLogin(t, s, smtp, "5678902")
	texts := len(sms.Delivered())
	p = other.Post(t, page.URL, "/account/contacts/test", url.Values{"channel": {"sms"}})
	if p.URL.RawQuery != "done=test_sms" {
		t.Fatalf("after sending an SMS: %d at %s", p.Status, p.URL)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(sms.Delivered()) == texts && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := sms.Delivered()
	if len(got) == texts {
		t.Fatal("no test SMS")
	}
	text := got[len(got)-1]
	l := linkRe.FindString(text.Body)
	if text.To != "+819012348902" || l == "" {
		t.Fatalf("test SMS to %s: %q", text.To, text.Body)
	}
	if done := confirmLink(t, s, l); done.Status != http.StatusOK {
		t.Errorf("confirming the SMS: %d", done.Status)
	}
}

// rpLogin logs member number in through rp from a fresh browser and
// returns the page the login lands on (following redirects up to the app).
func rpLogin(t *testing.T, s *Server, rp *RP, number string) (*Browser, Page) {
	t.Helper()
	b := NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(NewFlow()))
	return b, b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {checkPass}})
}

// TestContactReminderAfterLogin: with contacts.confirm_every, a member
// whose address was never confirmed is asked after logging in to an app,
// on the way back to it: "send me a test message" sends it and says so,
// then one click goes on to the app with the code. The next login is not
// asked again (30 days). Another member says "not now": one click, on to
// the app, not asked again either.
func TestContactReminderAfterLogin(t *testing.T) {
	s, smtp, _ := startContactCheck(t, "contacts:\n  confirm_every: 24h\n")
	rp := NewRP(t, s, "web", "web-secret-0123456789")

	b, p := rpLogin(t, s, rp, checkNumber)
	if p.URL.Path != "/login/contacts-check" || !strings.Contains(p.Body, "Please check your contact details") || !strings.Contains(p.Body, "Receipt not confirmed yet") {
		t.Fatalf("after login: %d at %s, want the reminder", p.Status, p.URL)
	}
	id := p.URL.Query().Get("authRequestID")
	seen := len(smtp.Messages())
	p = b.Post(t, p.URL, "/login/contacts-check", url.Values{"authRequestID": {id}, "action": {"send"}})
	if p.URL.Query().Get("sent") != "1" || !strings.Contains(p.Body, "We have sent a test email") || !strings.Contains(p.Body, `value="skip"`) {
		t.Fatalf("after send: %d at %s", p.Status, p.URL)
	}
	if cb := Callback(t, b.Post(t, p.URL, "/login/contacts-check", url.Values{"authRequestID": {id}, "action": {"skip"}})); cb.Query().Get("code") == "" {
		t.Errorf("continue: %s", cb)
	}
	if _, link := testLink(t, smtp, seen); confirmLink(t, s, link).Status != http.StatusOK {
		t.Error("the reminder's test message did not confirm")
	}
	if _, p := rpLogin(t, s, rp, checkNumber); p.Location == "" || !strings.Contains(p.Location, "code=") {
		t.Errorf("the next login: %d at %s, want the app", p.Status, p.URL)
	}

	b, p = rpLogin(t, s, rp, "5678902")
	if p.URL.Path != "/login/contacts-check" {
		t.Fatalf("the other member: %d at %s, want the reminder", p.Status, p.URL)
	}
	if cb := Callback(t, b.Post(t, p.URL, "/login/contacts-check", url.Values{"authRequestID": {p.URL.Query().Get("authRequestID")}, "action": {"skip"}})); cb.Query().Get("code") == "" {
		t.Errorf("not now: %s", cb)
	}
	if _, p := rpLogin(t, s, rp, "5678902"); p.Location == "" {
		t.Errorf("after not now: %d at %s, want the app", p.Status, p.URL)
	}
}
