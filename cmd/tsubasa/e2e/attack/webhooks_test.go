package attack

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify/notifytest"
	"tsubasa/provider/webhook"
)

// TestAttackWebhookURLIntoPrivateNetwork: a stolen admin:webhooks token
// (or a tricked operator) subscribes a "receiver" inside the provider's
// network, to have member events posted to the management listener or
// the cloud's metadata address: refused by the admin API and the CLI,
// with the field named.
func TestAttackWebhookURLIntoPrivateNetwork(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	for _, uri := range []string{"http://127.0.0.1:9090/metrics", "https://169.254.169.254/latest/", "https://10.1.2.3/hooks",
		"http://crm.example.com/hooks"} {
		a := e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/webhooks", ops, `{"url":"`+uri+`","events":["login.succeeded"]}`)
		if a.Status != http.StatusBadRequest || !strings.Contains(string(a.Body), "url") {
			t.Errorf("admin API, %s: %d %s, want 400 naming url", uri, a.Status, a.Body)
		}
		if out := s.CLI(t, true, "webhook", "add", "--url", uri, "--event", "login.succeeded"); !strings.Contains(out, "url") {
			t.Errorf("CLI, %s: the refusal does not name url:\n%s", uri, out)
		}
	}
	if a := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/webhooks", ops, ""); a.Status != http.StatusOK || strings.Contains(string(a.Body), "http") {
		t.Errorf("a refused subscription was stored: %d %s", a.Status, a.Body)
	}
}

// TestAttackWebhookSecretShownOnce: the signing secret is in the answer
// that creates the subscription and nowhere else: not in the list, not in
// the CLI's list, not in the server's log.
func TestAttackWebhookSecretShownOnce(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	a := e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/webhooks", ops,
		`{"url":"https://crm.example.com/hooks","events":["login.succeeded","member.created"]}`)
	var out adminapi.WebhookOutput
	if a.JSON(t, &out); a.Status != http.StatusCreated || !strings.HasPrefix(out.Secret, "whsec_") {
		t.Fatalf("subscribing: %d %s", a.Status, a.Body)
	}
	secret := strings.TrimPrefix(out.Secret, "whsec_")
	list := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/webhooks", ops, "")
	if list.Status != http.StatusOK || !strings.Contains(string(list.Body), out.Webhook.ID) || strings.Contains(string(list.Body), secret) {
		t.Errorf("the list: %d %s (must name the subscription, never its secret)", list.Status, list.Body)
	}
	if cli := s.CLI(t, false, "webhook", "list"); !strings.Contains(cli, out.Webhook.ID) || strings.Contains(cli, secret) {
		t.Errorf("the CLI's list:\n%s", cli)
	}
	if strings.Contains(s.Output(), secret) {
		t.Error("the server's log holds a webhook secret")
	}
}

const privateHooks = "outbound:\n  allow_private_networks: true\n"

// TestAttackWebhookReplayedOrForgedDelivery: an attacker who captured a
// real delivery (a log, a proxy) replays it later, or changes its body
// (another member, another type) and keeps the headers, or signs it with
// a secret of its own: the receiver's check (webhook.Verify, as the
// README tells receivers) refuses each; the genuine one passes.
func TestAttackWebhookReplayedOrForgedDelivery(t *testing.T) {
	s := e2e.Start(t, e2e.Options{Extra: privateHooks})
	r := e2e.NewWebhookReceiver(t)
	r.Subscribe(t, s, "member.created")
	e2e.CreateTestMember(t, s)
	r.WaitCreated(t, 45*time.Second)
	d := r.Accepted()[0]
	now := time.Now()
	if err := webhook.Verify(d.Header, r.Secret, d.Raw, now, 5*time.Minute); err != nil {
		t.Fatalf("the genuine delivery: %v", err)
	}
	if err := webhook.Verify(d.Header, r.Secret, d.Raw, now.Add(6*time.Minute), 5*time.Minute); !errors.Is(err, webhook.ErrTimestamp) {
		t.Errorf("replayed six minutes later: %v, want ErrTimestamp", err)
	}
	forged := []byte(strings.Replace(string(d.Raw), "member.created", "member.status_changed", 1))
	if err := webhook.Verify(d.Header, r.Secret, forged, now, 5*time.Minute); !errors.Is(err, webhook.ErrNoSignature) {
		t.Errorf("body changed, headers kept: %v, want ErrNoSignature", err)
	}
	own := d.Header.Clone()
	if err := webhook.Sign(own, webhook.SecretFor([]byte("attacker"), "x"), d.Header.Get("webhook-id"), now, forged); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Verify(own, r.Secret, forged, now, 5*time.Minute); !errors.Is(err, webhook.ErrNoSignature) {
		t.Errorf("signed with the attacker's secret: %v, want ErrNoSignature", err)
	}
	stale := d.Header.Clone()
	stale.Set("webhook-timestamp", "1")
	if err := webhook.Verify(stale, r.Secret, d.Raw, now, 5*time.Minute); err == nil {
		t.Error("a delivery with its timestamp changed passed")
	}
}

// TestAttackWebhookPayloadLeaksNoSecrets: a receiver (or whoever reads
// its logs) must learn nothing that logs a member in: the password typed
// at a failed login, the password, the reset code mailed, the new
// password; nor the member's name or mail address. Every delivery of
// every type is scanned.
func TestAttackWebhookPayloadLeaksNoSecrets(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.Start(t, e2e.Options{Extra: privateHooks, SMTPPort: port})
	r := e2e.NewWebhookReceiver(t)
	r.Subscribe(t, s, webhook.EventTypes...)
	e2e.CreateTestMember(t, s)
	id := r.WaitCreated(t, 45*time.Second)

	const typed, newPass = "Guess-Hikouki-1", "Aozora-Tsubasa-2027"
	rp := e2e.NewRP(t, s, "web", e2e.WebSecret, "openid")
	b := e2e.NewBrowser(t, s)
	login := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {typed}})
	login = b.Get(t, rp.AuthURL(e2e.NewFlow()))
	aid := login.AuthRequestID(t)
	form := b.Get(t, s.Issuer+"/login/reset?authRequestID="+aid)
	sent := b.Post(t, form.URL, "/login/reset", url.Values{"authRequestID": {aid}, "member_number": {e2e.MemberNumber}})
	_, code := e2e.MailCode(t, smtp, 1)
	pw := b.Post(t, sent.URL, "/login/reset/code", url.Values{"otp": {code}})
	if done := b.Post(t, pw.URL, "/login/reset/password", url.Values{"new_password": {newPass}, "confirm_password": {newPass}}); done.URL.Path != "/login/reset/done" {
		t.Fatalf("reset: %d at %s", done.Status, done.URL)
	}
	f := e2e.NewFlow()
	e2e.MustExchange(t, rp, f, e2e.Login(t, e2e.NewBrowser(t, s), rp.AuthURL(f), e2e.MemberNumber, newPass))
	r.WaitTypes(t, id, 45*time.Second, "member.created", "login.failed", "password.changed", "login.succeeded")

	for _, d := range r.Received() {
		all := string(d.Raw) + " " + strings.Join(d.Header.Values("webhook-id"), " ")
		for _, secret := range []string{e2e.MemberPass, typed, code, newPass, "hanako@example.com", "空野", "花子"} {
			if strings.Contains(all, secret) {
				t.Errorf("a %s delivery carries %q: %s", d.Body.Type, secret, d.Raw)
			}
		}
	}
}

// TestAttackWebhookDeliveryIntoPrivateNetwork: a subscription made while
// private networks were allowed (or one whose name later resolves to a
// private address) is never delivered once they are not: the receiver on
// 127.0.0.1 gets no request, and the refused delivery is a dead letter
// in the member's audit trail.
func TestAttackWebhookDeliveryIntoPrivateNetwork(t *testing.T) {
	s := e2e.Start(t, e2e.Options{Extra: privateHooks})
	r := e2e.NewWebhookReceiver(t)
	r.Subscribe(t, s, "member.created")
	s.Stop(t)
	s = e2e.Start(t, e2e.Options{Dir: s.Dir})
	e2e.CreateTestMember(t, s)
	deadline := time.Now().Add(45 * time.Second)
	for {
		out := s.CLI(t, false, "events", "--member", e2e.MemberNumber)
		if strings.Contains(out, "webhook.delivery_failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter recorded for the refused delivery:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(r.Received()); n != 0 {
		t.Fatalf("the receiver on a loopback address got %d requests", n)
	}
}
