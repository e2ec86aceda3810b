package replicas

import (
	"encoding/json"
	"slices"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// TestReplicasCodeFlow: a login through the proxy lands each of its
// requests on another replica (authorize, the login page, the password,
// the callback to the provider), though the browser sends them over one
// kept-alive connection, and works: the code
// flow with PKCE of a relying party written with coreos/go-oidc and
// x/oauth2, its ID token verified against the key set any replica
// publishes, userinfo answered. The member's history shows the browser's
// own address (127.0.0.3), which only the proxy's X-Forwarded-For
// carried: the replicas trust their proxy and nobody else.
func TestReplicasCodeFlow(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", "web-secret-0123456789")
	b, seen := browserFrom(t, c.Server, "127.0.0.3")
	f := e2e.NewFlow()
	cb := e2e.Login(t, b, rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)
	login := seen.all()
	mustRotate(t, "the login's requests", login, 3)
	// The browser kept its connection to the proxy: the rotation is per
	// request, not per connection.
	if reused := slices.IndexFunc(login, func(l landing) bool { return l.reused }); reused < 0 {
		t.Errorf("no request of the login went over a kept-alive connection: %v", login)
	}
	tok, idt := e2e.MustExchange(t, rp, f, cb)
	var claims struct {
		ACR          string `json:"acr"`
		MemberNumber string `json:"member_number"`
	}
	if err := idt.Claims(&claims); err != nil || claims.MemberNumber != e2e.MemberNumber || claims.ACR != "urn:tsubasa:acr:pwd" {
		t.Errorf("ID token claims %+v (%v)", claims, err)
	}
	if _, err := rp.Provider.UserInfo(t.Context(), rp.OAuth.TokenSource(t.Context(), tok)); err != nil {
		t.Errorf("userinfo: %v", err)
	}
	var events struct {
		Events []struct{ Type, IP string } `json:"events"`
	}
	if err := json.Unmarshal([]byte(c.CLI(t, false, "events", "--member", e2e.MemberNumber, "--json")), &events); err != nil {
		t.Fatal(err)
	}
	if len(events.Events) == 0 || events.Events[0].IP != "127.0.0.3" {
		t.Errorf("the member's newest event: %+v, want the browser's address 127.0.0.3", events.Events)
	}
}
