package attack

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
)

const (
	ssfStreams       = adminapi.Prefix + "/ssf/streams"
	riscDisabled     = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	partnerBearer    = "Bearer partner-ssf-token-7f3a9c1e5b"
	partnerTokenPart = "partner-ssf-token-7f3a9c1e5b"
)

func streamBody(client, endpoint, auth string) string {
	b, _ := json.Marshal(adminapi.SSFStreamInput{ClientID: client, EventsRequested: []string{riscDisabled},
		Delivery: adminapi.SSFDelivery{Method: "urn:ietf:rfc:8935", EndpointURL: endpoint, AuthorizationHeader: auth}})
	return string(b)
}

// TestAttackSSFStreamIntoPrivateNetwork: a stolen admin:webhooks token
// (or a tricked operator) points a Shared Signals stream inside the
// provider's network, to have SETs posted to the management listener or
// the cloud's metadata address: refused, naming delivery.endpoint_url,
// and nothing is stored.
func TestAttackSSFStreamIntoPrivateNetwork(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	for _, uri := range []string{"http://127.0.0.1:9090/metrics", "https://169.254.169.254/latest/", "https://10.1.2.3/ssf",
		"http://partner.example.com/ssf"} {
		a := e2e.AdminDo(t, s, http.MethodPost, ssfStreams, ops, streamBody("web", uri, ""))
		if a.Status != http.StatusBadRequest || !strings.Contains(string(a.Body), "delivery.endpoint_url") {
			t.Errorf("%s: %d %s, want 400 naming delivery.endpoint_url", uri, a.Status, a.Body)
		}
	}
	if a := e2e.AdminDo(t, s, http.MethodGet, ssfStreams, ops, ""); a.Status != http.StatusOK || strings.TrimSpace(string(a.Body)) != "[]" {
		t.Errorf("a refused stream was stored: %d %s", a.Status, a.Body)
	}
}

// TestAttackSSFDeliveryIntoPrivateNetwork: a stream made while private
// networks were allowed is never delivered once they are not: its
// receiver on 127.0.0.1 gets no request, and the refused delivery is a
// dead letter in the member's audit trail.
func TestAttackSSFDeliveryIntoPrivateNetwork(t *testing.T) {
	s := e2e.Start(t, e2e.Options{Extra: privateHooks})
	r := e2e.NewSETReceiver(t, s, "")
	if a := e2e.AdminDo(t, s, http.MethodPost, ssfStreams, e2e.OpsToken(t, s), streamBody("web", r.URL, "")); a.Status != http.StatusCreated {
		t.Fatalf("creating the stream: %d %s", a.Status, a.Body)
	}
	s.Stop(t)
	s = e2e.Start(t, e2e.Options{Dir: s.Dir})
	e2e.CreateTestMember(t, s)
	if a := e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members/"+e2e.MemberNumber+"/disable", e2e.OpsToken(t, s), ""); a.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", a.Status, a.Body)
	}
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if out := s.CLI(t, false, "events", "--member", e2e.MemberNumber); strings.Contains(out, "webhook.delivery_failed") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no dead letter recorded for the refused SET:\n%s", out)
		}
	}
	if n := len(r.Received()); n != 0 {
		t.Fatalf("the receiver on a loopback address got %d requests", n)
	}
}

// TestAttackSSFReceiverCredentialExposed: the Authorization header a
// partner's receiver wants is a credential to that partner's system.
// Whoever reads the admin API's answers, or a copy of the database (a
// backup), must not learn it: no answer shows it and the data file holds
// it only sealed. A header smuggling a second header (CR LF) is refused.
func TestAttackSSFReceiverCredentialExposed(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	a := e2e.AdminDo(t, s, http.MethodPost, ssfStreams, ops, streamBody("web", "https://partner.example.com/ssf", partnerBearer))
	var st adminapi.SSFStreamView
	if a.JSON(t, &st); a.Status != http.StatusCreated || !st.AuthorizationSet {
		t.Fatalf("creating the stream: %d %s", a.Status, a.Body)
	}
	answers := [][]byte{a.Body}
	for _, p := range []string{ssfStreams, ssfStreams + "/" + st.StreamID, adminapi.Prefix + "/webhooks"} {
		answers = append(answers, e2e.AdminDo(t, s, http.MethodGet, p, ops, "").Body)
	}
	for _, b := range answers {
		if bytes.Contains(b, []byte(partnerTokenPart)) {
			t.Errorf("an admin answer shows the receiver's credential: %s", b)
		}
	}
	smuggled := e2e.AdminDo(t, s, http.MethodPost, ssfStreams, ops,
		streamBody("web", "https://partner.example.com/ssf", "Bearer x\r\nX-Injected: 1"))
	if smuggled.Status != http.StatusBadRequest || !strings.Contains(string(smuggled.Body), "delivery.authorization_header") {
		t.Errorf("a header with CR LF: %d %s, want 400 naming delivery.authorization_header", smuggled.Status, smuggled.Body)
	}
	s.Stop(t)
	data, err := os.ReadFile(filepath.Join(s.Dir, "tsubasa.db"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(st.StreamID)) {
		t.Fatal("the stream is not in the data file: nothing to check")
	}
	if bytes.Contains(data, []byte(partnerTokenPart)) {
		t.Error("the data file holds the receiver's credential in the clear")
	}
}
