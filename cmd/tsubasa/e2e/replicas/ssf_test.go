package replicas

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
)

// TestReplicasSSFStreamOnceAndInOrder: a Shared Signals stream created
// through one replica; the member is disabled and enabled twice through
// whichever replica the requests land on. The partner's receiver gets
// each SET exactly once (no two workers push one message), in the order
// the changes happened, each verifying against the JWKS (the replicas
// share the signing keys in the database) and naming the member.
func TestReplicasSSFStreamOnceAndInOrder(t *testing.T) {
	const disabled, enabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
		"https://schemas.openid.net/secevent/risc/event-type/account-enabled"
	c := e2e.StartCluster(t, e2e.Options{Extra: "outbound:\n  allow_private_networks: true\n"}, 2)
	r := e2e.NewSETReceiver(t, c.Server, "Bearer replicas-0123456789")
	tok := e2e.OpsToken(t, c.Server)
	body, _ := json.Marshal(adminapi.SSFStreamInput{ClientID: "web", EventsRequested: []string{disabled, enabled},
		Delivery: adminapi.SSFDelivery{Method: "urn:ietf:rfc:8935", EndpointURL: r.URL, AuthorizationHeader: r.Auth}})
	if a := e2e.AdminDo(t, c.Server, http.MethodPost, adminapi.Prefix+"/ssf/streams", tok, string(body)); a.Status != http.StatusCreated {
		t.Fatalf("creating the stream: %d %s", a.Status, a.Body)
	}
	e2e.CreateTestMember(t, c.Server)
	var m adminapi.MemberView
	e2e.AdminDo(t, c.Server, http.MethodGet, adminapi.Prefix+"/members/"+e2e.MemberNumber, tok, "").JSON(t, &m)
	for range 2 {
		for _, op := range []string{"/disable", "/enable"} {
			if a := e2e.AdminDo(t, c.Server, http.MethodPost, adminapi.Prefix+"/members/"+e2e.MemberNumber+op, tok, ""); a.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", op, a.Status, a.Body)
			}
		}
	}
	sets := r.WaitEvents(t, 45*time.Second, disabled, enabled, disabled, enabled)
	seen := map[string]int{}
	for _, s := range r.Received() {
		if s.Err != nil || s.Status != http.StatusAccepted {
			t.Errorf("SET %s: %v, answered %d", s.Claims.JTI, s.Err, s.Status)
		}
		seen[s.Claims.JTI]++
	}
	for jti, n := range seen {
		if n != 1 {
			t.Errorf("SET %s pushed %d times; no replica crashed, so once", jti, n)
		}
	}
	for i, s := range sets {
		if s.Claims.SubID.Subject != m.ID || s.Claims.Audience != "web" || s.Claims.Issuer != c.Issuer {
			t.Errorf("SET %d claims: %s", i, s.Payload)
		}
		if i > 0 && s.Claims.JTI <= sets[i-1].Claims.JTI {
			t.Errorf("out of order: %s %s after %s %s", s.EventType(), s.Claims.JTI, sets[i-1].EventType(), sets[i-1].Claims.JTI)
		}
	}
}
