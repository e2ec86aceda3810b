package replicas

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// TestReplicasLockoutAcrossReplicas: twenty wrong passwords for one
// member, sent at once from twenty browsers, spread by the proxy over the
// three replicas. A wrong password that was checked is answered 401, one
// refused unchecked (the member locked, or too many attempts in flight)
// 429: at most lockout.max_failures (5) are checked, whichever replica
// each lands on, since attempts in flight and failures are counted in the
// database. The right password is then refused on every replica.
func TestReplicasLockoutAcrossReplicas(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret)
	const guesses, maxFailures = 20, 5
	type guess struct {
		b    *e2e.Browser
		page e2e.Page
	}
	gs := make([]guess, guesses)
	for i := range gs {
		b, _ := browserFrom(t, c.Server, "127.0.0.7")
		gs[i] = guess{b, b.Get(t, rp.AuthURL(e2e.NewFlow()))}
	}
	statuses := make([]int, guesses)
	replicas := make([]string, guesses)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, g := range gs {
		form := url.Values{"authRequestID": {g.page.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {fmt.Sprintf("Wrong-Guess-%02d", i)}}
		wg.Go(func() {
			<-start
			res, err := sendFrom(g.b, sameOriginPost(t.Context(), g.page.URL, "/login", form))
			if err != nil {
				t.Errorf("guess %d: %v", i+1, err)
				return
			}
			statuses[i], replicas[i] = res.Status, res.Header.Get(e2e.ReplicaHeader)
		})
	}
	close(start)
	wg.Wait()
	checked, refused := countOf(statuses, http.StatusUnauthorized), countOf(statuses, http.StatusTooManyRequests)
	t.Logf("%d wrong passwords at once: %d checked (401), %d refused unchecked (429), landing on replicas %v", guesses, checked, refused, replicas)
	if checked+refused != guesses || checked == 0 || checked > maxFailures {
		t.Fatalf("statuses %v: %d checked, %d refused; want at most %d checked (lockout.max_failures) and the rest 429", statuses, checked, refused, maxFailures)
	}
	for i := range len(c.Replicas) {
		b, _ := browserFrom(t, c.Server, "127.0.0.8")
		p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
		res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
		if res.Status != http.StatusTooManyRequests || res.Location != "" {
			t.Errorf("the right password after the guesses (%d, on replica %s): status %d, Location %q; want 429", i+1, res.Header.Get(e2e.ReplicaHeader), res.Status, res.Location)
		}
	}
}

// clientCredentialsAt is the status of a client_credentials grant for id
// with secret at base.
func clientCredentialsAt(t *testing.T, base, id, secret string) int {
	t.Helper()
	resp := e2e.ClientPost(t, base+"/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
	resp.Body.Close()
	return resp.StatusCode
}

// TestReplicasClientChangesReachEveryReplica: the CLI, another process
// again, adds a client, rotates its secret and removes it while the
// replicas run. The new client works on every replica at once; after the
// rotation every replica refuses the old secret and takes the new one,
// and after the removal every replica refuses the client and a member's
// access token it was issued, each within storage.postgres.revocation_delay
// of the command's exit (the change notification usually brings it in
// milliseconds).
func TestReplicasClientChangesReachEveryReplica(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	old := addClient(t, c.Server, "--id", "reports", "--redirect-uri", c.Issuer+"/rp/callback",
		"--grant-type", "authorization_code", "--grant-type", "client_credentials")
	for _, r := range c.Replicas {
		if status := clientCredentialsAt(t, r.Base, "reports", old); status != http.StatusOK {
			t.Fatalf("the new client at %s: status %d", r.Base, status)
		}
	}
	out := c.CLI(t, false, "client", "rotate-secret", "reports")
	rotated := time.Now()
	m := cliSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rotate-secret showed no secret:\n%s", out)
	}
	took := everyReplicaWithin(t, c, rotated, "the old secret after rotate-secret", func(base string) bool {
		return clientCredentialsAt(t, base, "reports", old) == http.StatusUnauthorized
	})
	t.Logf("the old secret refused by replicas after %v", took)
	for _, r := range c.Replicas {
		if status := clientCredentialsAt(t, r.Base, "reports", m[1]); status != http.StatusOK {
			t.Errorf("the new secret at %s: status %d", r.Base, status)
		}
	}

	tok := e2e.LoginRP(t, e2e.NewRP(t, c.Server, "reports", m[1]), e2e.NewBrowser(t, c.Server))
	for _, r := range c.Replicas {
		if status := userinfoStatus(t, r.Base, tok.AccessToken); status != http.StatusOK {
			t.Fatalf("a member's access token of the client at %s: status %d", r.Base, status)
		}
	}
	c.CLI(t, false, "client", "remove", "reports")
	removed := time.Now()
	everyReplicaWithin(t, c, removed, "the removed client's secret", func(base string) bool {
		return clientCredentialsAt(t, base, "reports", m[1]) == http.StatusUnauthorized
	})
	everyReplicaWithin(t, c, removed, "a member's access token of the removed client", func(base string) bool {
		return userinfoStatus(t, base, tok.AccessToken) == http.StatusUnauthorized
	})
}
