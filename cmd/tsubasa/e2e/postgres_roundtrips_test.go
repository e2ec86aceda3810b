package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// flowCount is what one flow sent PostgreSQL, averaged over its runs.
type flowCount struct {
	name                                        string
	runs                                        int
	roundTrips, statements, writes, transaction float64
	detail                                      pgCount
}

// countFlow runs flow n times between two snapshots of c.
func countFlow(t *testing.T, c *pgCounter, name string, n int, flow func()) flowCount {
	t.Helper()
	before := c.snapshot()
	for range n {
		flow()
	}
	d := c.snapshot().since(before)
	st, wr, tx := d.totals()
	per := func(v int) float64 { return math.Round(float64(v)/float64(n)*10) / 10 }
	return flowCount{name: name, runs: n, roundTrips: per(d.RoundTrips), statements: per(st), writes: per(wr),
		transaction: per(tx), detail: d}
}

// TestPostgresRoundTripsPerFlow counts, on the wire between the server
// and PostgreSQL, the round trips and statements each flow costs: a
// password login's code flow end to end (authorize, login page, password,
// code, token), an SSO flow, a refresh, a client_credentials grant,
// userinfo and introspection. Background work (the listener's pings, the
// outbox worker, the janitor) runs on its own clock, so each flow runs
// many times and the counts are averages; the revocation delay is raised
// to 30 s only to space the freshness pings out (the requests' statements
// are the same at any delay while the listener is current), and login
// alerts are off (their mail's delivery is the outbox worker's, on its
// own clock).
//
// The scale-out issue requires that client_credentials, userinfo and
// introspection write nothing to the database per request: access tokens
// are self-contained and revocations are read from the process's cache.
// The test fails if any of them averages a write (a statement that
// inserts, updates, deletes or locks rows) on as many as half of its
// requests, and it bounds the other flows' round trips, so that a change
// that adds a round trip to them is a visible decision.
func TestPostgresRoundTripsPerFlow(t *testing.T) {
	counter, proxied := newPGCounter(t, PostgresURL(t))
	// Login alerts off, as in the load tests: each fresh browser is a new
	// device, and its alert's delivery (to an SMTP port where nothing
	// listens) would retry in the background on the outbox's clock.
	s := StartWithMember(t, Options{Postgres: proxied, Extra: "alerts:\n  enabled: false\n",
		Env: []string{"TSUBASA_STORAGE_POSTGRES_REVOCATION_DELAY=30s"}})
	const secret = "es-secret-0123456789"
	rp := NewRP(t, s, "web-es256", secret, "openid", "profile", "email", "membership", "offline_access")
	var disc struct {
		Introspection string `json:"introspection_endpoint"`
	}
	if err := rp.Provider.Claims(&disc); err != nil || disc.Introspection == "" {
		t.Fatalf("discovery has no introspection endpoint: %v", err)
	}
	sso := NewBrowser(t, s)
	tok := LoginRP(t, rp, sso)

	login := func() { LoginRP(t, rp, NewBrowser(t, s)) }
	ssoFlow := func() {
		f := NewFlow()
		tok, _ = MustExchange(t, rp, f, Callback(t, sso.Get(t, rp.AuthURL(f))))
	}
	refresh := func() {
		next, err := Refresh(t, rp, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		tok = next
	}
	clientCredentials := func() {
		resp := ClientPost(t, rp.OAuth.Endpoint.TokenURL, "backend", "backend-secret-0123456789",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"telephone"}})
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
			t.Fatalf("client_credentials: status %d, %v", resp.StatusCode, err)
		}
	}
	userinfo := func() {
		if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("userinfo: %v", err)
		}
	}
	introspect := func() {
		if !Introspect(t, disc.Introspection, "web-es256", secret, tok.AccessToken) {
			t.Fatal("introspection: the access token is not active")
		}
	}
	flows := []struct {
		name string
		runs int
		run  func()
		// maxRoundTrips bounds the average round trips per flow; readOnly
		// flows must also average no write.
		maxRoundTrips float64
		readOnly      bool
	}{
		// A code's claim and a refresh rotation, each with the tokens it
		// mints, are one statement (claimone.go); a code from a session that already lists
		// its client reads the session instead of updating it (provider's
		// recordSessionClient), one more read on a fresh login's first code.
		// The exchange reads the revocations and the member's stamp from
		// the database (storage.Fresh) in the statement that reads the
		// code with its request (storage.FreshCode), no round trip of
		// their own. The code's claim
		// deletes its request, so op's DeleteAuthRequest after the
		// exchange sends nothing (provider deletedWithCode). The look at
		// the code reads it with its request in one joined statement.
		// Within one HTTP request, what a step stored or read is handed
		// to the next step (storage.WithHandoff) instead of read back:
		// the completed request to the provider's answer, the session's
		// clients to recordSessionClient; and an update of the request
		// from the copy handed off is one compare-and-swap statement
		// (storage/postgres handoff.go) instead of a locked read and a
		// write. A code and its request's mark go in one commit
		// (IssueAuthCode), from that copy in one statement. The code
		// carries its request (provider/codeseal.go): the exchange's
		// read is gone, 27 → 26.
		{"code flow, password login (authorize → login → code → token)", 5, login, 26, false},
		// An SSO answer also binds its request in the update that
		// completes it (login-ui answerFromSession), not in one of its
		// own: 19 → 15 with the above; the SSO check takes the request
		// op created in the same HTTP request from the handoff, and its
		// two updates (completed, code issued) swap, the second with the
		// code's insert: 8; the fresh reads in the code's read: 7; the
		// claim with its tokens in one statement: 6; the request held
		// unstored through /authorize and stored once, with its code, in
		// one statement (storage.WithDeferredHandoff): 4 (the session's
		// read, the request with its code, the code's read, the claim);
		// the session from the replica's session cache, which a session's
		// end on any replica empties within the revocation delay
		// (storage.CachedSessions): 3; the code carrying its request
		// (provider/codeseal.go), so that the exchange reads nothing
		// and its claim makes the fresh checks with the tokens in one
		// statement (storage/postgres claimfresh.go): 2.
		{"code flow on an SSO session (authorize → code → token)", 10, ssoFlow, 2, false},
		// A refresh token's value carries its grant, sealed
		// (provider/refreshseal.go): the rotation, with the new token, is
		// the one statement (claimone.go), and no read comes before it.
		{"refresh", 10, refresh, 1, false},
		{"client_credentials", 40, clientCredentials, 0.5, true},
		{"userinfo", 40, userinfo, 0.5, true},
		{"introspection", 40, introspect, 0.5, true},
	}
	// Once each first: pgx prepares a statement on a connection the first
	// time it runs there, a round trip that later runs do not pay.
	for _, f := range flows {
		f.run()
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%-62s %6s %11s %10s %7s %13s\n", "flow", "runs", "round trips", "statements", "writes", "transactions")
	for _, f := range flows {
		c := countFlow(t, counter, f.name, f.runs, f.run)
		fmt.Fprintf(&report, "%-62s %6d %11.1f %10.1f %7.1f %13.1f\n", f.name, f.runs, c.roundTrips, c.statements, c.writes, c.transaction)
		t.Logf("%s, statements over %d runs:\n%s", f.name, f.runs, c.detail)
		if c.roundTrips > f.maxRoundTrips {
			t.Errorf("%s: %.1f round trips to PostgreSQL per flow, more than the %.1f it needed (see the statements above)",
				f.name, c.roundTrips, f.maxRoundTrips)
		}
		if _, writes, _ := c.detail.totals(); f.readOnly && writes*2 >= f.runs {
			t.Errorf("%s writes to the database: %d writing statements in %d requests (the issue requires none per request):\n%s",
				f.name, writes, f.runs, c.detail)
		}
	}
	t.Logf("per flow, averaged:\n%s", report.String())
}

// TestPGCountTellsWritesFromReads checks the classifier the read-only
// assertion above rests on: a statement that inserts, updates, deletes or
// locks rows is a write, transaction control is counted apart, and a
// plain read is neither.
func TestPGCountTellsWritesFromReads(t *testing.T) {
	c := pgCount{Statements: map[string]int{
		"begin": 2, "commit": 2, "savepoint sp_1": 1,
		"SELECT data FROM tokens WHERE id = $1":                                 7,
		"INSERT INTO events (id) VALUES ($1)":                                   1,
		"update tokens SET consumed = true WHERE id = $1":                       1,
		"DELETE FROM auth_requests WHERE id = $1":                               1,
		"SELECT data FROM members WHERE id = $1 FOR UPDATE":                     1,
		"WITH m AS (SELECT data FROM members WHERE id = $1 FOR SHARE) SELECT 1": 1,
		"SELECT data FROM outbox WHERE updated_by = $1":                         3,
	}}
	statements, writes, transactions := c.totals()
	if statements != 20 || writes != 5 || transactions != 2 {
		t.Errorf("totals = %d statements, %d writes, %d transactions; want 20, 5, 2", statements, writes, transactions)
	}
}
