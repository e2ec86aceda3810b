package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify/notifytest"
)

// privateHooks lets deliveries reach the test's receiver on 127.0.0.1.
const privateHooks = "outbound:\n  allow_private_networks: true\n"

// webhookWait bounds how long a delivery may take: the worker is woken
// by the event's commit, and a retry waits the outbox's backoff (5 s,
// then 10 s, with jitter).
const webhookWait = 45 * time.Second

// memberTypes are the event types the suites subscribe to.
var memberTypes = []string{"member.created", "login.succeeded", "login.failed", "password.changed", "not_me.reported", "member.status_changed"}

// checkOrdered fails t unless ds, one member's accepted deliveries, come
// in the order of their events (ids and timestamps increasing), each
// verified.
func checkOrdered(t *testing.T, ds []Delivery) {
	t.Helper()
	for i, d := range ds {
		if d.Err != nil {
			t.Errorf("delivery %s accepted unverified: %v", d.Body.ID, d.Err)
		}
		if i > 0 && (d.Body.ID <= ds[i-1].Body.ID || d.Body.Timestamp.Before(ds[i-1].Body.Timestamp)) {
			t.Errorf("out of order: %s %s (%s) after %s %s (%s)", d.Body.Type, d.Body.ID, d.Body.Timestamp,
				ds[i-1].Body.Type, ds[i-1].Body.ID, ds[i-1].Body.Timestamp)
		}
	}
}

// TestWebhooksDeliverMemberEventsSignedInOrder: a back office subscribes
// through the admin API; a member is created (CLI), fails a login and
// logs in through the real login pages, and changes the password on the
// account page, then reports "this wasn't me". The receiver verifies every delivery (Standard Webhooks,
// twice: with provider/webhook and with the HMAC written out from the
// spec) and gets the member's events in the order they happened, each
// with the event's id as webhook-id.
func TestWebhooksDeliverMemberEventsSignedInOrder(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := Start(t, Options{Extra: privateHooks, SMTPPort: port})
	r := NewWebhookReceiver(t)
	r.Subscribe(t, s, memberTypes...)
	CreateTestMember(t, s)
	id := r.WaitCreated(t, webhookWait)

	b := NewBrowser(t, s)
	p := b.Get(t, s.Issuer+"/account")
	b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {"Not-the-one-1"}})
	p = b.Get(t, s.Issuer+"/account")
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if res.URL.Path != "/account" {
		t.Fatalf("login: %d at %s", res.Status, res.URL)
	}
	page := b.Get(t, s.Issuer+"/account/password")
	if ok := b.Post(t, page.URL, "/account/password", url.Values{"password": {MemberPass}, "new_password": {"Aozora-2027"},
		"confirm_password": {"Aozora-2027"}}); ok.URL.Path != "/account" {
		t.Fatalf("password change: %d at %s", ok.Status, ok.URL)
	}
	confirm := accountPage(t, b, smtp, s.Issuer+"/account/not-me")
	b.Post(t, confirm.URL, "/account/not-me", nil)

	ds := r.WaitTypes(t, id, webhookWait, "member.created", "login.failed", "login.succeeded", "password.changed", "not_me.reported")
	checkOrdered(t, ds)
	for _, d := range ds {
		if d.Body.Type == "login.failed" && (d.Body.Data.Success || d.Body.Data.IP == "") {
			t.Errorf("login.failed data: %s", d.Raw)
		}
	}
	for _, d := range r.Received() {
		if d.Err != nil {
			t.Errorf("a delivery failed the receiver's check: %v (%s)", d.Err, d.Raw)
		}
	}
}

// TestWebhooksRetryAfterServerError: a member is created through the
// admin API; the receiver answers 500, then 200;
// the outbox tries again (signed afresh), with the same webhook-id, so
// the receiver de-duplicates and processes the event once.
func TestWebhooksRetryAfterServerError(t *testing.T) {
	s := Start(t, Options{Extra: privateHooks})
	r := NewWebhookReceiver(t)
	r.Subscribe(t, s, memberTypes...)
	r.Answer(http.StatusInternalServerError)
	// The back office creates the member through the admin API.
	if a := AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members", OpsToken(t, s), `{"number":"3000001","family_name_latin":"Abe"}`); a.Status != http.StatusCreated {
		t.Fatalf("creating the member: %d %s", a.Status, a.Body)
	}
	r.WaitCreated(t, webhookWait)
	got := r.Received()
	if len(got) < 2 || got[0].Status != http.StatusInternalServerError ||
		got[0].Header.Get("webhook-id") != got[1].Header.Get("webhook-id") || got[1].Status != http.StatusOK {
		t.Fatalf("want a 500 then a retry of the same message answered 200; got %d requests", len(got))
	}
	if got[0].Header.Get("webhook-signature") == got[1].Header.Get("webhook-signature") &&
		got[0].Header.Get("webhook-timestamp") != got[1].Header.Get("webhook-timestamp") {
		t.Error("a retry with a new timestamp carried the old signature")
	}
}

// TestWebhooksSlowReceiverDoesNotDelayLogin: the receiver hangs on its
// first delivery; the member's login answers all the same, while that
// delivery is still held.
func TestWebhooksSlowReceiverDoesNotDelayLogin(t *testing.T) {
	// The held delivery outlasts the login: the outbound timeout is long.
	s := Start(t, Options{Extra: privateHooks + "  timeout: 1m\n"})
	r := NewWebhookReceiver(t)
	r.Subscribe(t, s, memberTypes...)
	r.Hold()
	CreateTestMember(t, s)
	deadline := time.Now().Add(webhookWait)
	for len(r.Received()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery tried")
		}
		time.Sleep(50 * time.Millisecond)
	}
	rp := NewRP(t, s, "web", WebSecret, "openid")
	f := NewFlow()
	MustExchange(t, rp, f, Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass))
	if r.InFlight() == 0 {
		t.Fatal("the held delivery ended before the login answered: the login waited for it")
	}
	r.Release()
	id := r.WaitCreated(t, webhookWait)
	checkOrdered(t, r.WaitTypes(t, id, webhookWait, "member.created", "login.succeeded"))
}

// TestWebhooksSurviveSIGKILL: events are queued while the receiver is
// down (503); the server is killed with SIGKILL before any is delivered
// and restarted on the same file; once the receiver is back every event
// arrives, in order, verified, de-duplicable by webhook-id.
func TestWebhooksSurviveSIGKILL(t *testing.T) {
	opts := Options{Extra: privateHooks}
	s := Start(t, opts)
	r := NewWebhookReceiver(t)
	r.Subscribe(t, s, memberTypes...)
	down := make([]int, 100)
	for i := range down {
		down[i] = http.StatusServiceUnavailable
	}
	r.Answer(down...)
	CreateTestMember(t, s)
	b := NewBrowser(t, s)
	for range 2 {
		p := b.Get(t, s.Issuer+"/account")
		b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {"Not-the-one-1"}})
	}
	rp := NewRP(t, s, "web", WebSecret, "openid")
	f := NewFlow()
	MustExchange(t, rp, f, Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass))
	deadline := time.Now().Add(webhookWait)
	for len(r.Received()) == 0 { // queued, and the first is being retried
		if time.Now().After(deadline) {
			t.Fatal("no delivery tried")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.sigkill(t)
	if n := len(r.Accepted()); n != 0 {
		t.Fatalf("%d deliveries accepted before the crash; the test needs none", n)
	}
	r.mu.Lock()
	r.statuses = nil // the receiver is back
	r.mu.Unlock()
	s = restartOnSameData(t, s, opts)
	// A message the killed worker held leased is due again when its
	// lease ends (45 s by default): allow for that.
	id := r.WaitCreated(t, 2*webhookWait)
	ds := r.WaitTypes(t, id, 2*webhookWait, "member.created", "login.failed", "login.failed", "login.succeeded")
	checkOrdered(t, ds)
	if len(ds) != 4 {
		t.Errorf("accepted %d distinct events about the member, want 4", len(ds))
	}
	s.Stop(t)
}
