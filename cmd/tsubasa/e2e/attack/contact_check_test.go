package attack

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// Attacks on the contacts' "received it" link: it marks an address as one
// that receives one-time passwords and alerts, so an attacker who could
// confirm a member's address without its mail (a typo'd or lost address,
// taken over later) would hide that the member's codes go nowhere, and one
// who could flood a member with test messages would bury real alerts.

var receivedLinkRe = regexp.MustCompile(`https?://[^\s"<>]+/account/contacts/received\?t=([A-Za-z0-9._%-]+)`)

// contactCheckServer has two members with an address each, mail recorded.
func contactCheckServer(t *testing.T) (*e2e.Server, *notifytest.SMTPServer) {
	t.Helper()
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.StartWithMember(t, e2e.Options{SMTPPort: port})
	s.CLI(t, false, "member", "create", "--number", "1000013", "--password", "Umi-Yama-2026", "--family-name", "青木", "--email", "aoki@example.com")
	return s, smtp
}

// contactsAs logs number in to the contacts page, with the step-up code.
func contactsAs(t *testing.T, s *e2e.Server, smtp *notifytest.SMTPServer, number, password string) (*e2e.Browser, e2e.Page) {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	codes := len(e2e.CodeMails(smtp))
	p := b.Get(t, s.Issuer+"/account/contacts")
	p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {password}})
	if p.URL.Path == "/login/otp" {
		_, code := e2e.MailCode(t, smtp, codes+1)
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
	}
	if p.URL.Path != "/account/contacts" {
		t.Fatalf("contacts page: %d at %s", p.Status, p.URL)
	}
	return b, p
}

// sendTest asks for a test email from b and returns the token of its link.
func sendTest(t *testing.T, smtp *notifytest.SMTPServer, b *e2e.Browser, page e2e.Page, to string) string {
	t.Helper()
	seen := len(smtp.Messages())
	if p := b.Post(t, page.URL, "/account/contacts/test", url.Values{"channel": {"email"}}); p.URL.RawQuery != "done=test_email" {
		t.Fatalf("test message: %d at %s", p.Status, p.URL)
	}
	var tok string
	smtp.WaitFor(t, func(notifytest.ReceivedMail) bool {
		for _, m := range smtp.Messages()[seen:] {
			if mm := receivedLinkRe.FindStringSubmatch(strings.ReplaceAll(m.Text, "\r\n", "\n")); mm != nil && m.To[0] == to {
				tok, _ = url.QueryUnescape(mm[1])
				return true
			}
		}
		return false
	}, 20*time.Second)
	return tok
}

// confirmToken posts a token as the link's page does, from a browser of
// nobody's, and returns the answer.
func confirmToken(t *testing.T, s *e2e.Server, tok string) e2e.Page {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	u, _ := url.Parse(s.Issuer + "/account/contacts/received")
	return b.Post(t, u, "/account/contacts/received", url.Values{"t": {tok}})
}

// notConfirmed checks the member's contacts page still says the address
// was never confirmed.
func notConfirmed(t *testing.T, b *e2e.Browser, s *e2e.Server, who string) {
	t.Helper()
	if p := b.Get(t, s.Issuer+"/account/contacts"); !strings.Contains(p.Body, "受信はまだ確認されていません") {
		t.Errorf("%s's address shows as confirmed", who)
	}
}

// TestAttackForgedReceivedItLink: an attacker forges "received it" links
// for the victim: made up, the attacker's own link with the victim's
// member id in it, the victim's with the channel or the expiry changed,
// or another nonce. Each is refused with the one message, on the link's
// page and on its button, and the victim's address stays unconfirmed.
func TestAttackForgedReceivedItLink(t *testing.T) {
	s, smtp := contactCheckServer(t)
	victim, vpage := contactsAs(t, s, smtp, e2e.MemberNumber, e2e.MemberPass)
	victimTok := sendTest(t, smtp, victim, vpage, "hanako@example.com")
	attacker, apage := contactsAs(t, s, smtp, "1000013", "Umi-Yama-2026")
	own := strings.Split(sendTest(t, smtp, attacker, apage, "aoki@example.com"), ".")
	v := strings.Split(victimTok, ".")
	join := func(p ...string) string { return strings.Join(p, ".") }
	for name, tok := range map[string]string{
		"made up":                        "mem.email.zzzzzz.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
		"the attacker's, victim's id":    join(v[0], own[1], own[2], own[3], own[4]),
		"the victim's, channel changed":  join(v[0], "sms", v[2], v[3], v[4]),
		"the victim's, expiry moved":     join(v[0], v[1], "zzzzzzz", v[3], v[4]),
		"the victim's, attacker's nonce": join(v[0], v[1], v[2], own[3], v[4]),
		"the victim's, attacker's MAC":   join(v[0], v[1], v[2], v[3], own[4]),
		"the victim's, no MAC":           join(v[0], v[1], v[2], v[3]),
	} {
		t.Run(name, func(t *testing.T) {
			page := e2e.NewBrowser(t, s).Get(t, s.Issuer+"/account/contacts/received?t="+url.QueryEscape(tok))
			p := confirmToken(t, s, tok)
			for _, got := range []e2e.Page{page, p} {
				if got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "このリンクは使用できません") {
					t.Errorf("status %d, want 400 and the one refusal", got.Status)
				}
			}
		})
	}
	notConfirmed(t, victim, s, "the victim")
}

// TestAttackReplayedReceivedItLink: a link is spent by its first
// confirmation: a second, or several racing at once, are refused, and
// only the newest link of a channel works. Opening the link (a GET, as a
// mail scanner does) spends nothing.
func TestAttackReplayedReceivedItLink(t *testing.T) {
	s, smtp := contactCheckServer(t)
	b, page := contactsAs(t, s, smtp, e2e.MemberNumber, e2e.MemberPass)
	tok := sendTest(t, smtp, b, page, "hanako@example.com")
	for range 3 { // scanners
		if p := e2e.NewBrowser(t, s).Get(t, s.Issuer+"/account/contacts/received?t="+url.QueryEscape(tok)); p.Status != http.StatusOK {
			t.Fatalf("opening the link: %d", p.Status)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 10 {
		wg.Go(func() {
			if p := confirmToken(t, s, tok); p.Status == http.StatusOK {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 10 racing confirmations of one link succeeded, want 1", ok)
	}
	if p := confirmToken(t, s, tok); p.Status != http.StatusBadRequest {
		t.Errorf("the link again: %d, want 400", p.Status)
	}
}

// TestAttackTestMessageFlood: someone with the member's session (or the
// member's own impatience) presses "send me a test message" again and
// again, from two browsers: one message goes out, every other press is
// refused with the wait, because the limit is the member's, in storage,
// not the browser's.
func TestAttackTestMessageFlood(t *testing.T) {
	s, smtp := contactCheckServer(t)
	a, pa := contactsAs(t, s, smtp, e2e.MemberNumber, e2e.MemberPass)
	b, pb := contactsAs(t, s, smtp, e2e.MemberNumber, e2e.MemberPass)
	before := len(smtp.Messages())
	sent := 0
	for i := range 10 {
		br, pg := a, pa
		if i%2 == 1 {
			br, pg = b, pb
		}
		switch p := br.Post(t, pg.URL, "/account/contacts/test", url.Values{"channel": {"email"}}); p.Status {
		case http.StatusOK:
			sent++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("press %d: %d", i, p.Status)
		}
	}
	if sent != 1 {
		t.Errorf("%d of 10 presses sent a message, want 1", sent)
	}
	// Test messages are sent within the request (the one-time passwords'
	// mailer, no outbox): all have arrived by now.
	n := 0
	for _, m := range smtp.Messages()[before:] {
		if receivedLinkRe.MatchString(m.Text) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d test messages arrived, want 1", n)
	}
}
