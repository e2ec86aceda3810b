package replicas

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/cmd/tsubasa/e2e"
)

// refreshAt redeems refresh token rt at base's token endpoint (the proxy,
// or one replica) as the web client, and returns the answer's status (200,
// or 400 with invalid_grant: anything else fails the test), its tokens
// and the replica the proxy chose (-1 when base is a replica).
func refreshAt(t *testing.T, base, rt string) (int, *oauth2.Token, int) {
	t.Helper()
	resp := e2e.ClientPost(t, base+"/oauth/token", "web", e2e.WebSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	defer resp.Body.Close()
	replica := -1
	if resp.Header.Get(e2e.ReplicaHeader) != "" {
		replica = replicaOf(t, resp)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
	}
	_ = decodeJSON(resp, &tok)
	switch {
	case resp.StatusCode == http.StatusOK && (tok.AccessToken == "" || tok.RefreshToken == ""):
		t.Fatalf("refresh at %s answered 200 without tokens", base)
	case resp.StatusCode != http.StatusOK && (resp.StatusCode != http.StatusBadRequest || tok.Error != "invalid_grant"):
		t.Fatalf("refresh at %s: status %d, error %q; want 200 or 400 invalid_grant", base, resp.StatusCode, tok.Error)
	}
	return resp.StatusCode, &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}, replica
}

// TestReplicasRefreshRotationAndReuse: a refresh token rotated on one
// replica is rotated again on the next (each rotation lands elsewhere);
// the replay of a rotated token, sent to a replica other than the one
// that rotated it, is refused and revokes the family: the newest refresh
// token is refused at once (single use is one statement in the database)
// and the newest access token by every replica within
// storage.postgres.revocation_delay.
func TestReplicasRefreshRotationAndReuse(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid", "offline_access")
	tok := e2e.LoginRP(t, rp, e2e.NewBrowser(t, c.Server))

	first, current := tok.RefreshToken, tok
	rotatedOn, landed := -1, map[int]bool{}
	for i := range 3 {
		status, next, replica := refreshAt(t, c.Issuer, current.RefreshToken)
		if status != http.StatusOK || next.RefreshToken == current.RefreshToken {
			t.Fatalf("rotation %d through the proxy (replica %d): status %d", i+1, replica, status)
		}
		if i == 0 {
			rotatedOn = replica
		}
		landed[replica] = true
		current = next
	}
	if len(landed) < 2 {
		t.Errorf("three rotations through the proxy all landed on replica %v", landed)
	}
	replay := c.Replicas[(rotatedOn+1)%len(c.Replicas)].Base
	if status, _, _ := refreshAt(t, replay, first); status != http.StatusBadRequest {
		t.Fatalf("the replay of the first refresh token on another replica than the one that rotated it (%d): status %d, want 400 invalid_grant", rotatedOn, status)
	}
	revoked := time.Now()
	for _, r := range c.Replicas {
		if status, _, _ := refreshAt(t, r.Base, current.RefreshToken); status != http.StatusBadRequest {
			t.Errorf("the family's newest refresh token after the replay, at %s: status %d, want 400 invalid_grant", r.Base, status)
		}
	}
	took := everyReplicaWithin(t, c, revoked, "the family's newest access token", func(base string) bool {
		return userinfoStatus(t, base, current.AccessToken) == http.StatusUnauthorized
	})
	t.Logf("the replayed family's access token refused by replicas after %v", took)
}

// TestReplicasRevocationWithinBound: an access token revoked (RFC 7009)
// at one replica is refused by every replica within
// storage.postgres.revocation_delay of the revocation's answer, and its
// refresh token at once; the other replicas hear of it through the
// database's notifications, not through the proxy.
func TestReplicasRevocationWithinBound(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid", "offline_access")
	tok := e2e.LoginRP(t, rp, e2e.NewBrowser(t, c.Server))
	for _, r := range c.Replicas {
		if status := userinfoStatus(t, r.Base, tok.AccessToken); status != http.StatusOK {
			t.Fatalf("the access token at %s before the revocation: %d", r.Base, status)
		}
	}
	resp := e2e.ClientPost(t, c.Replicas[0].Base+"/revoke", "web", e2e.WebSecret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
	resp.Body.Close()
	revoked := time.Now()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation at replica 0: status %d", resp.StatusCode)
	}
	took := everyReplicaWithin(t, c, revoked, "the revoked access token", func(base string) bool {
		return userinfoStatus(t, base, tok.AccessToken) == http.StatusUnauthorized
	})
	t.Logf("the revoked access token refused by replicas 0, 1, 2 after %v (bound %v)", took, c.RevocationDelay)

	resp = e2e.ClientPost(t, c.Replicas[1].Base+"/revoke", "web", e2e.WebSecret, url.Values{"token": {tok.RefreshToken}})
	resp.Body.Close()
	for _, r := range c.Replicas {
		if status, _, _ := refreshAt(t, r.Base, tok.RefreshToken); status != http.StatusBadRequest {
			t.Errorf("the revoked refresh token at %s: status %d, want 400 invalid_grant", r.Base, status)
		}
	}
}
