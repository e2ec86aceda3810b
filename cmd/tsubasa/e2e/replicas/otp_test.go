package replicas

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

const acrOTP = "urn:tsubasa:acr:otp"

// resend asks the code page p for a new code by mail and returns the
// status and the replica that answered.
func resend(t *testing.T, b *e2e.Browser, p e2e.Page) (int, string) {
	t.Helper()
	res := b.Post(t, p.URL, "/login/otp/resend", url.Values{"authRequestID": {p.AuthRequestID(t)}, "channel": {"email"}})
	return res.Status, res.Header.Get(e2e.ReplicaHeader)
}

// TestReplicasOTPStepUp: a relying party asks a password session for acr
// otp; the code page, the mail, the resends and the code's entry each
// land on another replica. Resends hold the interval and the hourly cap
// (otp.resend_interval 1s, otp.resend_per_hour 3: the first send and two
// resends) on every replica: an immediate resend is refused wherever it
// lands, of six resends at once after the interval exactly one sends,
// and past the cap every replica refuses. The newest code completes the
// step-up at acr otp; the one it replaced does not.
func TestReplicasOTPStepUp(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	c := e2e.StartCluster(t, e2e.Options{SMTPPort: port,
		Extra: "otp:\n  on_login: never\n  resend_interval: 1s\n  resend_per_hour: 3\n"}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret)
	b, seen := browserFrom(t, c.Server, "127.0.0.4")
	e2e.LoginRP(t, rp, b)

	f := e2e.NewFlow()
	page := b.Get(t, rp.AuthURL(f, oauth2.SetAuthURLParam("acr_values", acrOTP)))
	if page.URL.Path != "/login/otp" {
		t.Fatalf("step-up: %d at %s, want the code page", page.Status, page.URL)
	}
	_, first := e2e.MailCode(t, smtp, 1)
	refusedOn := map[string]bool{}
	for range 3 {
		status, replica := resend(t, b, page)
		if status != http.StatusTooManyRequests {
			t.Fatalf("a resend within the interval on replica %s: status %d, want 429", replica, status)
		}
		refusedOn[replica] = true
	}
	if len(refusedOn) != 3 {
		t.Errorf("three resends within the interval were refused by replicas %v, want all three", refusedOn)
	}

	time.Sleep(1100 * time.Millisecond) // otp.resend_interval
	statuses := make([]int, 6)
	var wg sync.WaitGroup
	form := url.Values{"authRequestID": {page.AuthRequestID(t)}, "channel": {"email"}}
	for i := range statuses {
		wg.Go(func() {
			res, err := sendFrom(b, sameOriginPost(t.Context(), page.URL, "/login/otp/resend", form))
			if err != nil {
				t.Errorf("resend %d: %v", i+1, err)
				return
			}
			statuses[i] = res.Status
		})
	}
	wg.Wait()
	if sent := countOf(statuses, http.StatusOK); sent != 1 || countOf(statuses, http.StatusTooManyRequests) != 5 {
		t.Fatalf("six resends at once after the interval: statuses %v, want exactly one 200 and five 429", statuses)
	}
	_, second := e2e.MailCode(t, smtp, 2)
	time.Sleep(1100 * time.Millisecond)
	if status, replica := resend(t, b, page); status != http.StatusOK {
		t.Fatalf("the third send of the hour on replica %s: status %d", replica, status)
	}
	_, third := e2e.MailCode(t, smtp, 3)
	time.Sleep(1100 * time.Millisecond)
	for range 3 {
		if status, replica := resend(t, b, page); status != http.StatusTooManyRequests {
			t.Errorf("a fourth send within the hour on replica %s: status %d, want 429", replica, status)
		}
	}
	if n := len(e2e.CodeMails(smtp)); n != 3 {
		t.Errorf("%d code mails, want 3 (otp.resend_per_hour)", n)
	}

	seen.all()
	for _, old := range []string{first, second} {
		if old == third {
			continue // random codes may repeat
		}
		if res := b.Post(t, page.URL, "/login/otp", url.Values{"authRequestID": {page.AuthRequestID(t)}, "otp": {old}}); res.Status != http.StatusUnauthorized {
			t.Errorf("a replaced code: status %d, want 401", res.Status)
		}
	}
	done := b.Post(t, page.URL, "/login/otp", url.Values{"authRequestID": {page.AuthRequestID(t)}, "otp": {third}})
	_, idt := e2e.MustExchange(t, rp, f, e2e.Callback(t, done))
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.ACR != acrOTP || !slices.Contains(claims.AMR, "otp") {
		t.Errorf("after the step-up: acr %q amr %v (%v)", claims.ACR, claims.AMR, err)
	}
	mustRotate(t, "the code entries", seen.all(), 3)
}

func countOf(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
