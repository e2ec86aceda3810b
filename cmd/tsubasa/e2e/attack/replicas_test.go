package attack

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// Several replicas on one PostgreSQL database, behind a load balancer
// without stickiness: an attacker who holds a stolen code or token sends
// it to whichever replica the legitimate client did not use, hoping that
// single use and revocation are decided in one process's memory.

// twoReplicas starts two servers on one new database with one issuer; b
// listens on a port of its own.
func twoReplicas(t *testing.T) (a, b *e2e.Server) {
	t.Helper()
	db := e2e.PostgresURL(t)
	a = e2e.StartWithMember(t, e2e.Options{Postgres: db})
	b = e2e.Start(t, e2e.Options{Postgres: db, Env: []string{"TSUBASA_ISSUER=" + a.Issuer}})
	return a, b
}

// via returns rp with its token endpoint on replica s.
func via(rp *e2e.RP, s *e2e.Server) *e2e.RP {
	c := *rp
	c.OAuth.Endpoint.TokenURL = s.Issuer + "/oauth/token"
	return &c
}

// refusedWithin polls /userinfo on s with token (bounded by the
// revocation delay, 1s, with room for a loaded machine) until it answers
// 401.
func refusedWithin(t *testing.T, s *e2e.Server, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _ := bearerAnswer(t, s, token)
		if status == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts the access token (status %d)", s.Issuer, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCodeReplayOnAnotherReplica: a code the client exchanged on replica
// a, replayed by an attacker on replica b, is refused there, and the
// replay revokes what the code minted on both replicas: the access token
// at userinfo (within storage.postgres.revocation_delay) and the refresh
// token.
func TestCodeReplayOnAnotherReplica(t *testing.T) {
	a, b := twoReplicas(t)
	rp := e2e.NewRP(t, a, "web", "web-secret-0123456789", "openid", "offline_access")
	f := e2e.NewFlow()
	cb := e2e.Login(t, e2e.NewBrowser(t, a), rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)
	tok, _ := e2e.MustExchange(t, rp, f, cb)
	if status, _ := bearerAnswer(t, b, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("the access token before the replay: %d on replica b", status)
	}
	if _, _, err := via(rp, b).Exchange(t.Context(), f, cb); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Fatalf("the replayed code on replica b: %v, want invalid_grant", err)
	}
	for _, s := range []*e2e.Server{a, b} {
		refusedWithin(t, s, tok.AccessToken)
	}
	if _, err := e2e.Refresh(t, via(rp, b), tok.RefreshToken); !e2e.IsOAuthError(err, "invalid_grant") {
		t.Errorf("the refresh token of a replayed code on replica b: %v, want invalid_grant", err)
	}
}

// TestCodeRaceAcrossReplicas: an attacker racing the client with the same
// code, the requests spread over both replicas at once, gets at most one
// exchange through: exactly one of them succeeds.
func TestCodeRaceAcrossReplicas(t *testing.T) {
	a, b := twoReplicas(t)
	rp := e2e.NewRP(t, a, "web", "web-secret-0123456789")
	f := e2e.NewFlow()
	cb := e2e.Login(t, e2e.NewBrowser(t, a), rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		target := via(rp, []*e2e.Server{a, b}[i%2])
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			_, _, errs[i] = target.Exchange(ctx, f, cb)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !e2e.IsOAuthError(err, "invalid_grant"):
			t.Errorf("exchange %d: %v, want success or invalid_grant", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d exchanges of one code succeeded across two replicas, want exactly 1", won)
	}
}
