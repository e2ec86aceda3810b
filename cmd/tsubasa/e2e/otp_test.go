package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/provider/notify/notifytest"
)

// One-time passwords end to end: a recording SMTP server and an SMS
// webhook receive the codes, and the tests type them in as a member would.

const acrOTP = "urn:tsubasa:acr:otp"

// otpEnv is a server with the test member (hanako@example.com, JP), its
// mail going to smtp and its SMS to sms.
type otpEnv struct {
	s    *Server
	smtp *notifytest.SMTPServer
	sms  *notifytest.SMSWebhook
	rp   *RP
}

func startOTP(t *testing.T, otpYAML string, o Options) *otpEnv {
	t.Helper()
	e := &otpEnv{smtp: notifytest.NewSMTPServer(t), sms: notifytest.NewSMSWebhook(t)}
	_, o.SMTPPort = e.smtp.Addr()
	o.SMSURL = e.sms.URL()
	o.Extra += "otp:\n" + otpYAML
	e.s = StartWithMember(t, o)
	e.rp = NewRP(t, e.s, "web", "web-secret-0123456789")
	return e
}

// smsCode waits for delivered SMS number n and returns its code.
func (e *otpEnv) smsCode(t *testing.T, n int) (notifytest.SMSRequest, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(e.sms.Delivered()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no SMS number %d (%d delivered)", n, len(e.sms.Delivered()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := e.sms.Delivered()[n-1]
	m := smsRe.FindStringSubmatch(got.Body)
	if m == nil {
		t.Fatalf("SMS holds no code: %q", got.Body)
	}
	return got, m[1]
}

// passwordToOTP logs in with the password and expects the code page.
func passwordToOTP(t *testing.T, b *Browser, authURL, number, password string) Page {
	t.Helper()
	p := b.Get(t, authURL)
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {password}})
	if res.URL.Path != "/login/otp" || res.Status != http.StatusOK {
		t.Fatalf("after the password: status %d at %s, want the code page\n%s", res.Status, res.URL, res.Body)
	}
	return res
}

func enterCode(t *testing.T, b *Browser, p Page, code string) Page {
	t.Helper()
	return b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
}

func wrongCode(code string) string {
	if code == "123456" {
		return "654321"
	}
	return "123456"
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func claimsOf(t *testing.T, e *otpEnv, f Flow, cb *url.URL) idClaims {
	t.Helper()
	_, idt := MustExchange(t, e.rp, f, cb)
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOTPLoginByEmail: with otp.on_login=always the password leads to the
// code page; a wrong code shows the attempts left, a quick resend is
// throttled with the wait shown, a new code supersedes the first, and the
// ID token carries acr otp and amr pwd+otp.
func TestOTPLoginByEmail(t *testing.T) {
	e := startOTP(t, "  on_login: always\n  resend_interval: 2s\n", Options{})
	b := NewBrowser(t, e.s)
	f := NewFlow()
	page := passwordToOTP(t, b, e.rp.AuthURL(f), MemberNumber, MemberPass)
	mustContain(t, "code page", page.Body, `name="otp"`, `autocomplete="one-time-code"`, `inputmode="numeric"`,
		"h***@example.com", "no-reply@tsubasa.test", "<details", "迷惑メール", "最新のコードのみ有効")
	first, code1 := MailCode(t, e.smtp, 1)
	if !slices.Contains(first.To, "hanako@example.com") {
		t.Errorf("code mailed to %v", first.To)
	}

	wrong := enterCode(t, b, page, wrongCode(code1))
	if wrong.Status != http.StatusUnauthorized || !strings.Contains(wrong.Body, "あと4回") {
		t.Fatalf("wrong code: status %d, want 401 with 4 attempts left\n%s", wrong.Status, wrong.Body)
	}
	resend := b.Post(t, page.URL, "/login/otp/resend", url.Values{"authRequestID": {page.AuthRequestID(t)}, "channel": {"email"}})
	if resend.Status != http.StatusTooManyRequests || !strings.Contains(resend.Body, "秒後に再送信") {
		t.Fatalf("immediate resend: status %d, want 429 with the wait\n%s", resend.Status, resend.Body)
	}
	time.Sleep(2100 * time.Millisecond)
	resend = b.Post(t, page.URL, "/login/otp/resend", url.Values{"authRequestID": {page.AuthRequestID(t)}, "channel": {"email"}})
	if resend.Status != http.StatusOK {
		t.Fatalf("resend after the interval: status %d\n%s", resend.Status, resend.Body)
	}
	_, code2 := MailCode(t, e.smtp, 2)
	if code2 != code1 {
		if old := enterCode(t, b, page, code1); old.Status != http.StatusUnauthorized {
			t.Fatalf("the superseded code: status %d, want 401\n%s", old.Status, old.Body)
		}
	}
	c := claimsOf(t, e, f, Callback(t, enterCode(t, b, page, code2)))
	if c.ACR != acrOTP || !slices.Contains(c.AMR, "pwd") || !slices.Contains(c.AMR, "otp") || slices.Contains(c.AMR, "sms") {
		t.Errorf("ID token acr %q amr %v, want %s and pwd+otp without sms", c.ACR, c.AMR, acrOTP)
	}
	out := e.s.CLI(t, false, "events", "--member", MemberNumber)
	mustContain(t, "events", out, "otp.sent", "otp.verified", "otp.failed")
}

// TestOTPLoginBySMS: a member with a verified mobile number (JP) chooses
// SMS on the contacts page; the next login sends the code by SMS, offers
// email instead, and the ID token's amr says sms.
func TestOTPLoginBySMS(t *testing.T) {
	e := startOTP(t, "  on_login: always\n", Options{})
	e.s.CLI(t, false, "member", "create", "--number", "7000123", "--password", "Kumo-Tori-2026", "--family-name", "雲井",
		"--email", "kumoi@example.com", "--phone", "+819012345678", "--country", "JP", "--locale", "en")

	b := NewBrowser(t, e.s)
	login := b.Get(t, e.s.Issuer+"/account/contacts")
	page := b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)}, "member_number": {"7000123"}, "password": {"Kumo-Tori-2026"}})
	mustContain(t, "code page", page.Body, "k***@example.com", `value="sms"`) // SMS offered instead
	_, code := MailCode(t, e.smtp, 1)
	contacts := enterCode(t, b, page, code)
	if contacts.URL.Path != "/account/contacts" || !strings.Contains(contacts.Body, `name="channel" value="sms"`) {
		t.Fatalf("after the code: %d at %s\n%s", contacts.Status, contacts.URL, contacts.Body)
	}
	done := b.Post(t, contacts.URL, "/account/contacts/channel", url.Values{"channel": {"sms"}})
	if done.URL.Query().Get("done") != "channel" {
		t.Fatalf("choosing SMS: %d at %s\n%s", done.Status, done.URL, done.Body)
	}

	// The SMS gateway is down: the page says so and offers a retry and email.
	e.sms.SetStatus(http.StatusServiceUnavailable)
	b2 := NewBrowser(t, e.s)
	f := NewFlow()
	p := b2.Get(t, e.rp.AuthURL(f, oauth2.SetAuthURLParam("ui_locales", "en")))
	page = b2.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {"7000123"}, "password": {"Kumo-Tori-2026"}})
	if page.Status != http.StatusBadGateway || !strings.Contains(page.Body, "could not send the code by SMS") {
		t.Fatalf("failed SMS: status %d at %s\n%s", page.Status, page.URL, page.Body)
	}
	mustContain(t, "failed-SMS page", page.Body, `value="email"`, "Send a new code")
	e.sms.SetStatus(0)
	page = b2.Post(t, page.URL, "/login/otp/resend", url.Values{"authRequestID": {page.AuthRequestID(t)}, "channel": {"sms"}})
	mustContain(t, "SMS code page", page.Body, "&#43;81 90-****-5678", "by SMS", `value="email"`, "Didn&#39;t receive it?")
	sms, code := e.smsCode(t, 1)
	if sms.To != "+819012345678" {
		t.Errorf("SMS to %q", sms.To)
	}
	c := claimsOf(t, e, f, Callback(t, enterCode(t, b2, page, code)))
	for _, want := range []string{"pwd", "otp", "sms"} {
		if !slices.Contains(c.AMR, want) {
			t.Errorf("amr %v lacks %s", c.AMR, want)
		}
	}
}

// TestOTPStepUp: a relying party asking for acr urn:tsubasa:acr:otp
// within a password SSO session gets the code page (no password form),
// then an ID token with acr otp, amr pwd+otp and a fresh auth_time. A
// member with nowhere to send a code is told how to register one instead
// of being let through at a lower level.
func TestOTPStepUp(t *testing.T) {
	e := startOTP(t, "  on_login: never\n  resend_interval: 1s\n", Options{Extra: privateHooks})
	hooks := NewWebhookReceiver(t)
	hooks.Subscribe(t, e.s, "otp.locked")
	b := NewBrowser(t, e.s)
	f := NewFlow()
	first := claimsOf(t, e, f, Login(t, b, e.rp.AuthURL(f), MemberNumber, MemberPass))
	if first.ACR != "urn:tsubasa:acr:pwd" || len(CodeMails(e.smtp)) != 0 {
		t.Fatalf("first login: acr %q, %d codes mailed (on_login never)", first.ACR, len(CodeMails(e.smtp)))
	}
	time.Sleep(1100 * time.Millisecond) // auth_time has second resolution

	f = NewFlow()
	page := b.Get(t, e.rp.AuthURL(f, oauth2.SetAuthURLParam("acr_values", acrOTP)))
	if page.URL.Path != "/login/otp" || strings.Contains(page.Body, `name="password"`) {
		t.Fatalf("step-up: status %d at %s, want the code page\n%s", page.Status, page.URL, page.Body)
	}
	_, code := MailCode(t, e.smtp, 1)
	// Five wrong entries end the code: the page offers a new one.
	var dead Page
	for range 5 {
		dead = enterCode(t, b, page, wrongCode(code))
	}
	if strings.Contains(dead.Body, `name="otp"`) || !strings.Contains(dead.Body, "入力の誤りが上限に達した") {
		t.Fatalf("after 5 wrong codes: status %d\n%s", dead.Status, dead.Body)
	}
	// A back office subscribed to otp.locked hears of it, signed.
	m, _ := getMember(t, e.s, OpsToken(t, e.s), MemberNumber)
	checkOrdered(t, hooks.WaitTypes(t, m.ID, webhookWait, "otp.locked"))
	time.Sleep(1100 * time.Millisecond) // resend_interval
	if res := b.Post(t, page.URL, "/login/otp/resend", url.Values{"authRequestID": {page.AuthRequestID(t)}}); res.Status != http.StatusOK {
		t.Fatalf("new code after the dead one: status %d\n%s", res.Status, res.Body)
	}
	_, code = MailCode(t, e.smtp, 2)
	c := claimsOf(t, e, f, Callback(t, enterCode(t, b, page, code)))
	if c.ACR != acrOTP || !slices.Contains(c.AMR, "pwd") || !slices.Contains(c.AMR, "otp") || c.AuthTime <= first.AuthTime {
		t.Errorf("after step-up: acr %q amr %v auth_time %d (first %d)", c.ACR, c.AMR, c.AuthTime, first.AuthTime)
	}

	// Nowhere to send a code: the page explains, and nothing is issued.
	e.s.CLI(t, false, "member", "create", "--number", "7000007", "--password", "Hoshi-Zora-2026", "--family-name", "星野")
	nb := NewBrowser(t, e.s)
	p := nb.Get(t, e.rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("acr_values", acrOTP)))
	res := nb.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {"7000007"}, "password": {"Hoshi-Zora-2026"}})
	if res.URL.Path != "/login/otp" || res.Location != "" || strings.Contains(res.Body, `name="otp"`) {
		t.Fatalf("no contact: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	mustContain(t, "no-contact page", res.Body, `href="/account/contacts"`, "メールアドレスまたは携帯電話番号の登録")
	cancel := nb.Post(t, res.URL, "/login/otp/cancel", url.Values{"authRequestID": {res.AuthRequestID(t)}})
	if cb := Callback(t, cancel); cb.Query().Get("error") != "access_denied" {
		t.Errorf("cancel: callback %s, want access_denied", cb)
	}
}

// TestOTPNewDevice: with the default otp.on_login=new_device, a browser
// the risk feature does not know gets the code step; once it has logged
// in, the same browser does not, and another browser does again.
func TestOTPNewDevice(t *testing.T) {
	e := startOTP(t, "  on_login: new_device\n", Options{})
	b := NewBrowser(t, e.s)
	f := NewFlow()
	page := passwordToOTP(t, b, e.rp.AuthURL(f), MemberNumber, MemberPass)
	_, code := MailCode(t, e.smtp, 1)
	claimsOf(t, e, f, Callback(t, enterCode(t, b, page, code)))

	f = NewFlow()
	c := claimsOf(t, e, f, Login(t, b, e.rp.AuthURL(f, oauth2.SetAuthURLParam("prompt", "login")), MemberNumber, MemberPass))
	if c.ACR != "urn:tsubasa:acr:pwd" || len(CodeMails(e.smtp)) != 1 {
		t.Errorf("known browser: acr %q, %d codes mailed; want a password login without a code", c.ACR, len(CodeMails(e.smtp)))
	}
	passwordToOTP(t, NewBrowser(t, e.s), e.rp.AuthURL(NewFlow()), MemberNumber, MemberPass)
}
