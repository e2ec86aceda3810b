package replicas

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// TestReplicasWebhooksOnceAndInOrder: two replicas, each with its outbox
// worker, share the queue. A member's events are written on whichever
// replica a request lands on; the receiver gets each exactly once (no two
// workers deliver one message: the claim's lease) and in the order they
// happened (the claim's ordering rule, in the database). Each verifies.
func TestReplicasWebhooksOnceAndInOrder(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{Extra: "outbound:\n  allow_private_networks: true\n"}, 2)
	r := e2e.NewWebhookReceiver(t)
	r.Subscribe(t, c.Server, "member.created", "login.failed", "login.succeeded")
	e2e.CreateTestMember(t, c.Server)
	b := e2e.NewBrowser(t, c.Server)
	for range 3 {
		p := b.Get(t, c.Issuer+"/account")
		b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber},
			"password": {"Not-the-one-1"}})
	}
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid")
	for range 2 {
		f := e2e.NewFlow()
		e2e.MustExchange(t, rp, f, e2e.Login(t, e2e.NewBrowser(t, c.Server), rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass))
	}
	id := r.WaitCreated(t, 45*time.Second)
	ds := r.WaitTypes(t, id, 45*time.Second, "member.created", "login.failed", "login.failed", "login.failed",
		"login.succeeded", "login.succeeded")
	seen := map[string]int{}
	for _, d := range r.Received() {
		if d.Err != nil || d.Status != http.StatusOK {
			t.Errorf("delivery %s: %v, answered %d", d.Body.ID, d.Err, d.Status)
		}
		seen[d.Header.Get("webhook-id")]++
	}
	for wid, n := range seen {
		if n != 1 {
			t.Errorf("event %s delivered %d times; no replica crashed, so once", wid, n)
		}
	}
	for i := 1; i < len(ds); i++ {
		if ds[i].Body.ID <= ds[i-1].Body.ID {
			t.Errorf("out of order: %s %s after %s %s", ds[i].Body.Type, ds[i].Body.ID, ds[i-1].Body.Type, ds[i-1].Body.ID)
		}
	}
}
