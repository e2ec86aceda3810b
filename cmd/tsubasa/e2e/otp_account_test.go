package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// stepUpTo opens an account page that needs a step-up and completes the
// login it starts (password, then the code mailed as number n).
func (e *otpEnv) stepUpTo(t *testing.T, b *Browser, path string, n int) Page {
	t.Helper()
	login := b.Get(t, e.s.Issuer+path)
	page := b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if page.URL.Path != "/login/otp" {
		t.Fatalf("%s: after the password %d at %s, want the code page\n%s", path, page.Status, page.URL, page.Body)
	}
	_, code := MailCode(t, e.smtp, n)
	res := enterCode(t, b, page, code)
	if res.URL.Path != path || res.Status != http.StatusOK {
		t.Fatalf("%s: after the code %d at %s\n%s", path, res.Status, res.URL, res.Body)
	}
	return res
}

// TestOTPContactChange: the contacts page needs a step-up; each of the
// seed-004 undeliverable addresses is refused with its own message; a new
// address is saved only once the code sent to IT comes back; a mobile
// number is confirmed by SMS; contact.changed is in the audit log.
func TestOTPContactChange(t *testing.T) {
	e := startOTP(t, "  on_login: never\n", Options{Extra: privateHooks})
	hooks := NewWebhookReceiver(t)
	hooks.Subscribe(t, e.s, "contact.changed")
	b := NewBrowser(t, e.s)
	page := e.stepUpTo(t, b, "/account/contacts", 1)
	mustContain(t, "contacts page", page.Body, "hanako@example.com", `autocomplete="email"`, `autocomplete="tel"`)

	seen := map[string]string{}
	for _, bad := range []string{".hanako@example.com", "han..ako@example.com", "hanako.@example.com", "hanako@", "hanako@example"} {
		res := b.Post(t, page.URL, "/account/contacts/email", url.Values{"email": {bad}})
		msg := alertText(res.Body)
		if res.Status != http.StatusUnprocessableEntity || msg == "" {
			t.Errorf("%q: status %d, message %q", bad, res.Status, msg)
			continue
		}
		seen[msg] = bad
	}
	if len(seen) != 4 { // the last two are both plain syntax errors
		t.Errorf("want 4 distinct messages for the 5 bad addresses, got %d: %v", len(seen), seen)
	}

	verify := b.Post(t, page.URL, "/account/contacts/email", url.Values{"email": {"Hanako.Sora@Example.ORG"}})
	if verify.URL.Path != "/account/contacts/verify" || !strings.Contains(verify.Body, "H***@example.org") {
		t.Fatalf("new address: %d at %s\n%s", verify.Status, verify.URL, verify.Body)
	}
	mail, code := MailCode(t, e.smtp, 2)
	if !slices.Equal(mail.To, []string{"Hanako.Sora@example.org"}) {
		t.Errorf("confirmation mailed to %v, want the new address only", mail.To)
	}
	if show := e.s.CLI(t, false, "member", "show", MemberNumber); !strings.Contains(show, "hanako@example.com") {
		t.Errorf("the address changed before it was confirmed:\n%s", show)
	}
	saved := b.Post(t, verify.URL, "/account/contacts/verify", url.Values{"otp": {code}})
	if saved.URL.Query().Get("done") != "email" || !strings.Contains(saved.Body, "Hanako.Sora@example.org") {
		t.Fatalf("after the code: %d at %s\n%s", saved.Status, saved.URL, saved.Body)
	}

	phone := b.Post(t, saved.URL, "/account/contacts/phone", url.Values{"phone": {"090-8765-4321"}})
	if phone.URL.Path != "/account/contacts/verify" {
		t.Fatalf("new number: %d at %s\n%s", phone.Status, phone.URL, phone.Body)
	}
	sms, code := e.smsCode(t, 1)
	if sms.To != "+819087654321" {
		t.Errorf("SMS to %q, want +819087654321", sms.To)
	}
	if wrong := b.Post(t, phone.URL, "/account/contacts/verify", url.Values{"otp": {wrongCode(code)}}); wrong.Status != http.StatusUnauthorized {
		t.Errorf("wrong code: status %d", wrong.Status)
	}
	saved = b.Post(t, phone.URL, "/account/contacts/verify", url.Values{"otp": {code}})
	if saved.URL.Query().Get("done") != "phone" || !strings.Contains(saved.Body, "&#43;819087654321") {
		t.Fatalf("after the SMS code: %d at %s\n%s", saved.Status, saved.URL, saved.Body)
	}
	if ev := e.s.CLI(t, false, "events", "--member", MemberNumber); strings.Count(ev, "contact.changed") != 2 {
		t.Errorf("want two contact.changed events:\n%s", ev)
	}
	// A back office subscribed to contact.changed gets both, signed, in
	// order, naming the field, never the new address or number.
	m, _ := getMember(t, e.s, OpsToken(t, e.s), MemberNumber)
	ds := hooks.WaitTypes(t, m.ID, webhookWait, "contact.changed", "contact.changed")
	checkOrdered(t, ds)
	var fields []string
	for _, d := range ds {
		fields = append(fields, d.Body.Data.Detail["field"])
		if raw := string(d.Raw); strings.Contains(raw, "example.org") || strings.Contains(raw, "8765") {
			t.Errorf("a contact.changed delivery carries the new contact: %s", raw)
		}
	}
	if !slices.Equal(fields, []string{"email", "phone"}) {
		t.Errorf("contact.changed fields %q, want email then phone", fields)
	}
}

var alertRe = regexp.MustCompile(`(?s)<div class="alert" role="alert" aria-live="assertive">(.*?)</div>`)

func alertText(body string) string {
	m := alertRe.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// TestOTPForgotPassword: "Forgot your password?" on the login page; a
// number that is no member's gets the very same answer; the code mailed to
// the member leads to the new password form (the policy's rules listed),
// and the member then logs in with the new password through the same
// request.
func TestOTPForgotPassword(t *testing.T) {
	e := startOTP(t, "  on_login: never\n", Options{})
	// Another browser is logged in before the reset; the reset ends it.
	elsewhere := NewBrowser(t, e.s)
	ef := NewFlow()
	if c := claimsOf(t, e, ef, Login(t, elsewhere, e.rp.AuthURL(ef), MemberNumber, MemberPass)); c.SID == "" {
		t.Fatal("login elsewhere gave no session")
	}
	b := NewBrowser(t, e.s)
	f := NewFlow()
	login := b.Get(t, e.rp.AuthURL(f, oauth2.SetAuthURLParam("ui_locales", "en")))
	link := "/login/reset?authRequestID=" + login.AuthRequestID(t)
	mustContain(t, "login page", login.Body, `href="`+link+`"`)
	form := b.Get(t, e.s.Issuer+link)

	// An unknown and a known number: the same status, place and page.
	stranger := NewBrowser(t, e.s)
	id := login.AuthRequestID(t)
	unknown := stranger.Post(t, form.URL, "/login/reset", url.Values{"authRequestID": {id}, "member_number": {"7000999"}})
	sent := b.Post(t, form.URL, "/login/reset", url.Values{"authRequestID": {id}, "member_number": {MemberNumber}})
	if unknown.Status != sent.Status || unknown.URL.Path != sent.URL.Path || unknown.Body != sent.Body {
		t.Errorf("unknown and known numbers answered differently: %d %s / %d %s", unknown.Status, unknown.URL, sent.Status, sent.URL)
	}
	if bad := stranger.Post(t, unknown.URL, "/login/reset/code", url.Values{"otp": {"123456"}}); bad.Status != http.StatusUnauthorized {
		t.Errorf("a code for an unknown number: status %d", bad.Status)
	}
	if sent.URL.Path != "/login/reset/code" || strings.Contains(sent.Body, "example.com") {
		t.Fatalf("code page: %d at %s (must not say where the code went)\n%s", sent.Status, sent.URL, sent.Body)
	}
	mail, code := MailCode(t, e.smtp, 1)
	if !slices.Contains(mail.To, "hanako@example.com") {
		t.Errorf("reset code mailed to %v", mail.To)
	}
	pw := b.Post(t, sent.URL, "/login/reset/code", url.Values{"otp": {code}})
	if pw.URL.Path != "/login/reset/password" || !strings.Contains(pw.Body, `autocomplete="new-password"`) {
		t.Fatalf("after the code: %d at %s\n%s", pw.Status, pw.URL, pw.Body)
	}
	weak := b.Post(t, pw.URL, "/login/reset/password", url.Values{"new_password": {"abc"}, "confirm_password": {"abc"}})
	if weak.Status != http.StatusUnprocessableEntity || !strings.Contains(weak.Body, `class="failed"`) || alertText(weak.Body) == "" {
		t.Errorf("weak password: status %d\n%s", weak.Status, weak.Body)
	}
	const newPass = "Aozora-Tsubasa-2027"
	done := b.Post(t, pw.URL, "/login/reset/password", url.Values{"new_password": {newPass}, "confirm_password": {newPass}})
	if done.URL.Path != "/login/reset/done" || !strings.Contains(done.Body, `href="/login?authRequestID=`+login.AuthRequestID(t)+`"`) {
		t.Fatalf("done page: %d at %s\n%s", done.Status, done.URL, done.Body)
	}
	if cb := Callback(t, elsewhere.Get(t, e.rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("prompt", "none")))); cb.Query().Get("error") != "login_required" {
		t.Errorf("a session from before the reset still answers prompt=none: %s", cb)
	}
	again := b.Get(t, e.s.Issuer+"/login?authRequestID="+login.AuthRequestID(t))
	res := b.Post(t, again.URL, "/login", url.Values{"authRequestID": {again.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {newPass}})
	if c := claimsOf(t, e, f, Callback(t, res)); c.ACR == "" {
		t.Errorf("login with the new password: claims %+v", c)
	}
	old := NewBrowser(t, e.s)
	p := old.Get(t, e.rp.AuthURL(NewFlow()))
	if res := old.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}}); res.Status != http.StatusUnauthorized {
		t.Errorf("the old password still works: status %d", res.Status)
	}
}
