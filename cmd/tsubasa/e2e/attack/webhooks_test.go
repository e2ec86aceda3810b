package attack

import (
	"net/http"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
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
