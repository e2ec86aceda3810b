package replicas

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/cmd/tsubasa/e2e"
)

// database lets a test take the cluster's database away from the
// replicas and give it back: connections refused (ALLOW_CONNECTIONS
// false) and the open ones ended, as when PostgreSQL restarts or fails
// over, without touching the other tests' databases on the same server.
type database struct {
	t     *testing.T
	name  string
	admin *pgx.Conn
}

func openDatabase(t *testing.T, dbURL string) *database {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	d := &database{t: t, name: strings.TrimPrefix(u.Path, "/")}
	u.Path = "/postgres"
	if d.admin, err = pgx.Connect(t.Context(), u.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A failed test leaves the database open again for pgtest's drop.
		_, _ = d.admin.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{d.name}.Sanitize()+" WITH ALLOW_CONNECTIONS true")
		d.admin.Close(context.Background())
	})
	return d
}

// down refuses new connections to the database and ends the open ones.
func (d *database) down() {
	d.t.Helper()
	d.exec("ALTER DATABASE " + pgx.Identifier{d.name}.Sanitize() + " WITH ALLOW_CONNECTIONS false")
	d.exec(fmt.Sprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", d.name))
}

// up accepts connections again.
func (d *database) up() {
	d.t.Helper()
	d.exec("ALTER DATABASE " + pgx.Identifier{d.name}.Sanitize() + " WITH ALLOW_CONNECTIONS true")
}

func (d *database) exec(sql string) {
	d.t.Helper()
	if _, err := d.admin.Exec(d.t.Context(), sql); err != nil {
		d.t.Fatal(err)
	}
}

// waitReadyz polls each replica's /readyz (bounded) until it answers want.
func waitReadyz(t *testing.T, c *e2e.Cluster, want int) {
	t.Helper()
	for _, r := range c.Replicas {
		last := 0
		for deadline := time.Now().Add(30 * time.Second); last != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s/readyz answered %d for 30s, want %d", r.Base, last, want)
			}
			last, _ = e2e.RawStatus(mustGet(t, r.Base+"/readyz"))
		}
	}
}

// outageLog is every answer the clients got while the database was away.
type outageLog struct {
	on  atomic.Bool // the database is away (from down until every /readyz is 200 again)
	mu  sync.Mutex
	got []string // "what status: body"
	n   map[string]int
}

func (o *outageLog) record(what string, status int, body string) {
	if !o.on.Load() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[fmt.Sprintf("%s %d", what, status)]++
	if len(body) > 300 {
		body = body[:300]
	}
	o.got = append(o.got, fmt.Sprintf("%s %d: %s", what, status, body))
}

// leaks are what an answer must never show of a failure inside.
var leaks = []string{"pgx", "postgres", "SQLSTATE", "dial tcp", "connection refused", "terminating connection", "goroutine", ".go:"}

// checkOutageAnswers checks what the clients got while the database was
// away: no 500, no 4xx (nothing the clients sent was wrong: a valid token,
// code or page must not be called invalid), nothing from inside; and some
// 503s, so the outage was felt.
func checkOutageAnswers(t *testing.T, o *outageLog) {
	t.Helper()
	unavailable := 0
	for _, a := range o.got {
		what, rest, _ := strings.Cut(a, " ")
		status, body, _ := strings.Cut(rest, ": ")
		switch {
		case status == "503":
			unavailable++
		case status == "200" || status == "302" && strings.Contains(body, "error=temporarily_unavailable"):
		case status == "302" && !strings.Contains(body, "error="):
		default:
			t.Errorf("%s while the database was away: %s, want 503 (or an answer from what the replica holds)\n%s", what, status, body)
		}
		for _, leak := range leaks {
			if strings.Contains(body, leak) {
				t.Errorf("%s while the database was away shows %q: %s", what, leak, body)
			}
		}
	}
	t.Logf("answers while the database was away: %v", o.n)
	if unavailable == 0 {
		t.Error("no answer was 503 while the database was away: the outage was not felt, and nothing was checked")
	}
}

// registeredAway checks the answer to an authorization request of a
// registered client whose record the replica cannot read: the error page
// with 503 and Retry-After, not "unknown client" (op's 400).
func registeredAway(t *testing.T, authorize string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(mustGet(t, authorize))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("/authorize of a registered client while the database was away: %d, Retry-After %q, %s; want the error page, 503 with Retry-After\n%.300s",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
	}
	for _, leak := range leaks {
		if strings.Contains(body, leak) {
			t.Errorf("/authorize of a registered client while the database was away shows %q", leak)
		}
	}
}

// outageFamily is a relying party's refresh family during the outage.
type outageFamily struct {
	current string
	unsure  bool // an answer was not 200: had the rotation committed before the database went away?
}

// TestReplicasPostgresOutage takes the database away for three seconds
// (connections refused, the open ones ended, as in a restart or a
// failover) under logins, refreshes and userinfo through the proxy. While
// it is away every replica's /readyz is 503, and what needs the database is
// answered 503 with nothing from inside (an authorization request is sent
// back to the relying party with temporarily_unavailable); nothing valid
// is called invalid. Then every replica recovers by itself, the same
// processes: /readyz 200, logins work, every refresh token last handed
// out refreshes, and what was revoked before stays revoked.
func TestReplicasPostgresOutage(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{Extra: "alerts:\n  enabled: false\n"}, 3)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid", "offline_access")
	db := openDatabase(t, c.Database)
	var families []*outageFamily
	for range 4 {
		families = append(families, &outageFamily{current: e2e.LoginRP(t, rp, e2e.NewBrowser(t, c.Server)).RefreshToken})
	}
	revoked := e2e.LoginRP(t, rp, e2e.NewBrowser(t, c.Server))
	for _, tok := range []string{revoked.AccessToken, revoked.RefreshToken} {
		resp := e2e.ClientPost(t, c.Issuer+"/revoke", "web", e2e.WebSecret, url.Values{"token": {tok}})
		resp.Body.Close()
	}
	live := e2e.LoginRP(t, rp, e2e.NewBrowser(t, c.Server))
	// A client registered in the database and not used yet: no replica
	// holds it, so its requests need the database.
	c.CLI(t, false, "client", "add", "--id", "outage-app", "--name", "Outage App", "--public",
		"--redirect-uri", c.Issuer+"/rp/outage", "--grant-type", "authorization_code", "--scope", "openid")
	registered := c.Issuer + "/authorize?" + url.Values{"client_id": {"outage-app"}, "redirect_uri": {c.Issuer + "/rp/outage"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "code_challenge": {strings.Repeat("c", 43)},
		"code_challenge_method": {"S256"}}.Encode()

	o := &outageLog{n: map[string]int{}}
	var stop atomic.Bool
	var wg sync.WaitGroup
	ctx := t.Context()
	wg.Go(func() { outageLogins(ctx, c, rp, o, &stop) })
	wg.Go(func() { outageRefreshes(ctx, c, families, o, &stop) })
	wg.Go(func() {
		for !stop.Load() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+live.AccessToken)
			if a, err := newLive(c.Server).send(req); err == nil {
				o.record("userinfo", a.status, a.body)
			}
			time.Sleep(30 * time.Millisecond)
		}
	})
	time.Sleep(500 * time.Millisecond)
	o.on.Store(true)
	db.down()
	waitReadyz(t, c, http.StatusServiceUnavailable)
	for range c.Replicas { // the proxy takes each request to the next replica
		registeredAway(t, registered)
	}
	time.Sleep(3 * time.Second)
	db.up()
	waitReadyz(t, c, http.StatusOK)
	o.on.Store(false)
	stop.Store(true)
	wg.Wait()
	checkOutageAnswers(t, o)

	for i, r := range c.Replicas {
		if r.Exited() {
			t.Errorf("replica %d exited during the outage", i)
		}
	}
	e2e.LoginRP(t, rp, e2e.NewBrowser(t, c.Server))
	unsure := 0
	for _, f := range families {
		status, tok, err := refresh(ctx, c.Issuer, f.current)
		switch {
		case err == nil && status == http.StatusOK:
		case f.unsure && err == nil && tok.Error == "invalid_grant":
			unsure++ // rotated before the answer was lost; the client's retry is a replay
		default:
			t.Errorf("the refresh token last handed out, after the outage: %d %s %s %v", status, tok.Error, tok.Desc, err)
		}
	}
	if status, tok, _ := refresh(ctx, c.Issuer, revoked.RefreshToken); tok.Error != "invalid_grant" {
		t.Errorf("a refresh token revoked before the outage, after it: %d %s, want invalid_grant", status, tok.Error)
	}
	for _, r := range c.Replicas {
		if status := userinfoStatus(t, r.Base, revoked.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("an access token revoked before the outage, after it, at %s: %d, want 401", r.Base, status)
		}
	}
	t.Logf("%d refresh families checked after the outage (%d whose rotation's answer was lost)", len(families), unsure)
}

// outageLogins logs the member in and exchanges the code, again and
// again, recording every answer.
func outageLogins(ctx context.Context, c *e2e.Cluster, rp *e2e.RP, o *outageLog, stop *atomic.Bool) {
	for !stop.Load() {
		time.Sleep(30 * time.Millisecond)
		b, f := newLive(c.Server), e2e.NewFlow()
		a, err := b.send(mustGetCtx(ctx, rp.AuthURL(f)))
		if err != nil {
			continue
		}
		where := a.body
		if a.status == http.StatusFound || strings.HasPrefix(a.url.Path, "/rp/") {
			where = a.location
		}
		o.record("authorize", a.status, where)
		m := authRequestRe.FindStringSubmatch(a.body)
		if m == nil {
			continue
		}
		form := url.Values{"authRequestID": {m[1]}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}}
		req := e2e.NewFormRequest(ctx, c.Issuer+"/login", form.Encode())
		req.Header.Set("Origin", c.Issuer)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if a, err = b.send(req); err != nil {
			continue
		}
		o.record("login", a.status, a.body)
		if !strings.HasPrefix(a.location, c.Issuer+"/rp/") {
			continue
		}
		cb, _ := url.Parse(a.location)
		if cb.Query().Get("code") == "" {
			// The login answered the app with an error instead of a
			// code: temporarily_unavailable is "try again" (counted as
			// a 503); any other error called the login invalid.
			e := cb.Query().Get("error")
			status := http.StatusBadRequest
			if e == "temporarily_unavailable" {
				status = http.StatusServiceUnavailable
			}
			o.record("callback", status, e+" "+cb.Query().Get("error_description"))
			continue
		}
		if status, tok, err := exchange(ctx, c.Issuer, f, cb); err == nil {
			o.record("code", status, tok.Error+" "+tok.Desc)
		}
	}
}

// outageRefreshes rotates the families' refresh tokens, recording every
// answer; a family whose answer was not 200 keeps its token (the client
// tries it again) but is unsure from then on.
func outageRefreshes(ctx context.Context, c *e2e.Cluster, families []*outageFamily, o *outageLog, stop *atomic.Bool) {
	for i := 0; !stop.Load(); i++ {
		time.Sleep(30 * time.Millisecond)
		f := families[i%len(families)]
		status, tok, err := refresh(ctx, c.Issuer, f.current)
		if err != nil {
			f.unsure = true
			continue
		}
		o.record("refresh", status, tok.Error+" "+tok.Desc)
		if status == http.StatusOK {
			f.current = tok.Refresh
		} else {
			f.unsure = true
		}
	}
}

func mustGetCtx(ctx context.Context, u string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	return req
}
