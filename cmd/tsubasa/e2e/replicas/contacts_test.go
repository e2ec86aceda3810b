package replicas

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

var receivedLinkRe = regexp.MustCompile(`https?://[^\s"<>]+/account/contacts/received\?t=([A-Za-z0-9._%-]+)`)

// contactsPage logs the test member in to the contacts page through the
// proxy, with the step-up code if one is asked.
func contactsPage(t *testing.T, s *e2e.Server, smtp *notifytest.SMTPServer) (*e2e.Browser, e2e.Page) {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	codes := len(e2e.CodeMails(smtp))
	p := b.Get(t, s.Issuer+"/account/contacts")
	p = b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if p.URL.Path == "/login/otp" {
		_, code := e2e.MailCode(t, smtp, codes+1)
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
	}
	if p.URL.Path != "/account/contacts" {
		t.Fatalf("contacts page: %d at %s", p.Status, p.URL)
	}
	return b, p
}

// TestReplicasContactCheckAcrossReplicas: the contacts' "received it"
// check through the cluster, the attack suite's two storage-decided
// scenarios (attack/contact_check_test.go) with every request on the next
// replica. "Send me a test message" pressed ten times from two browsers
// sends one message: the limit is the member's, in the database. The
// link's token confirmed by ten racing requests over the replicas
// succeeds once, and never again.
func TestReplicasContactCheckAcrossReplicas(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	c := e2e.StartCluster(t, e2e.Options{SMTPPort: port}, 3)
	e2e.CreateTestMember(t, c.Server)
	a, pa := contactsPage(t, c.Server, smtp)
	b, pb := contactsPage(t, c.Server, smtp)

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
			t.Fatalf("press %d: %d", i+1, p.Status)
		}
	}
	if sent != 1 {
		t.Fatalf("%d of 10 presses over the replicas sent a test message, want 1", sent)
	}
	var tok string
	smtp.WaitFor(t, func(notifytest.ReceivedMail) bool {
		for _, m := range smtp.Messages()[before:] {
			if mm := receivedLinkRe.FindStringSubmatch(strings.ReplaceAll(m.Text, "\r\n", "\n")); mm != nil {
				tok, _ = url.QueryUnescape(mm[1])
				return true
			}
		}
		return false
	}, 20*time.Second)

	// Posted as the link's page does, each from a browser of nobody's.
	page, _ := url.Parse(c.Issuer + "/account/contacts/received")
	confirm := func() (int, error) {
		req := sameOriginPost(t.Context(), page, "/account/contacts/received", url.Values{"t": {tok}})
		p, err := sendFrom(e2e.NewBrowser(t, c.Server), req)
		return p.Status, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	confirmed, failed := 0, 0
	for range 10 {
		wg.Go(func() {
			st, err := confirm()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed++
			case st == http.StatusOK:
				confirmed++
			}
		})
	}
	wg.Wait()
	if confirmed != 1 || failed > 0 {
		t.Errorf("%d of 10 racing confirmations of one link over the replicas succeeded (%d not answered), want 1", confirmed, failed)
	}
	for i := range len(c.Replicas) {
		if st, err := confirm(); err != nil || st != http.StatusBadRequest {
			t.Errorf("the link again (%d): %d %v, want 400", i+1, st, err)
		}
	}
}
