package replicas

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

const killPassword = "Kill-Sora-2026"

// family is one login's refresh tokens as the relying party saw them.
type family struct {
	current string // the last refresh token a 200 handed out
	rotated string // the one before it, refused since
	unknown bool   // a refresh got no answer: whether it rotated is not known
}

// killLedger is what the cluster acknowledged, as its clients saw it.
type killLedger struct {
	stop     atomic.Bool // the workers finish what they are doing and return
	acks     atomic.Int64
	mu       sync.Mutex
	members  map[string]bool // member number → its create exited 0
	families []*family
	pool     chan *family // families no worker holds
	errs     []string     // answers a live replica should not have given
}

func (l *killLedger) errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

func (l *killLedger) addFamily(rt string) {
	f := &family{current: rt}
	l.mu.Lock()
	l.families = append(l.families, f)
	l.mu.Unlock()
	l.acks.Add(1)
	select {
	case l.pool <- f:
	default: // the pool is full: the family is only checked at the end
	}
}

// killLogins logs members in and exchanges the codes: every 200 is an
// acknowledged family.
func killLogins(ctx context.Context, c *e2e.Cluster, rp *e2e.RP, numbers []string, l *killLedger) {
	for !l.stop.Load() {
		b, f := newLive(c.Server), e2e.NewFlow()
		page, id, err := b.open(ctx, rp.AuthURL(f))
		if err != nil {
			continue
		}
		cb, err := b.submit(ctx, page, id, numbers[rand.N(len(numbers))], killPassword)
		if err != nil {
			continue
		}
		status, tok, err := exchange(ctx, c.Issuer, f, cb)
		switch {
		case err != nil: // the replica died under the exchange: the code's fate is unknown
		case status == http.StatusOK && tok.Refresh != "":
			l.addFamily(tok.Refresh)
		default:
			l.errorf("a fresh code refused: %d %s %s", status, tok.Error, tok.Desc)
		}
	}
}

// killRefreshes rotates the families' refresh tokens. A refresh that got
// no answer is never replayed (a replay would revoke the family): the
// family is set aside as unknown.
func killRefreshes(ctx context.Context, c *e2e.Cluster, l *killLedger) {
	for !l.stop.Load() {
		var f *family
		select {
		case f = <-l.pool:
		case <-time.After(100 * time.Millisecond):
			continue
		}
		status, tok, err := refresh(ctx, c.Issuer, f.current)
		switch {
		case err != nil:
			f.unknown = true
			continue
		case status == http.StatusOK && tok.Refresh != "":
			f.rotated, f.current = f.current, tok.Refresh
			l.acks.Add(1)
		default:
			l.errorf("an acknowledged refresh token refused: %d %s %s", status, tok.Error, tok.Desc)
			f.unknown = true
			continue
		}
		l.pool <- f
	}
}

// killMembers creates members through the CLI, which opens the database
// itself and is not behind the proxy.
func killMembers(ctx context.Context, c *e2e.Cluster, l *killLedger) {
	for i := 1; !l.stop.Load(); i++ {
		n := fmt.Sprint(3100000 + i)
		l.mu.Lock()
		l.members[n] = false
		l.mu.Unlock()
		if _, code := c.TryCLI(ctx, "member", "create", "--number", n, "--password", killPassword, "--family-name", "停止"); code == 0 {
			l.mu.Lock()
			l.members[n] = true
			l.mu.Unlock()
			l.acks.Add(1)
		}
	}
}

// waitAcks waits (bounded) until the ledger holds n more acknowledgements
// than from.
func waitAcks(t *testing.T, l *killLedger, from, n int64, what string) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); l.acks.Load() < from+n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d acknowledgements in 90s, want %d", what, l.acks.Load()-from, n)
		}
	}
}

// TestReplicasSIGKILLUnderLoad kills one replica with SIGKILL, at a
// random moment, under concurrent logins with code exchanges, refresh
// rotations and member creations by the CLI. The proxy answers 502 for
// what the dead replica did not answer and leaves it out of the rotation;
// the clients retry pages as a browser's user would. Login flows begun
// before the kill (their login pages loaded) finish on the others; the
// load goes on; the replica comes back and serves again. Then everything
// acknowledged is there: every member whose create exited 0 shows in
// full, every refresh token last handed out refreshes, a rotated one
// replayed is refused and revokes its family (no family is half rotated),
// and a rotation nobody saw answered left either token state whole.
func TestReplicasSIGKILLUnderLoad(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{Extra: "alerts:\n  enabled: false\n"}, 3)
	numbers := []string{"2100001", "2100002", "2100003"}
	for _, n := range numbers {
		c.CLI(t, false, "member", "create", "--number", n, "--password", killPassword, "--family-name", "停止")
	}
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid", "offline_access")
	l := &killLedger{members: map[string]bool{}, pool: make(chan *family, 1000)}

	type pendingFlow struct {
		b    *live
		f    e2e.Flow
		page answer
		id   string
	}
	var pending []pendingFlow
	for range 6 {
		p := pendingFlow{b: newLive(c.Server), f: e2e.NewFlow()}
		var err error
		if p.page, p.id, err = p.b.open(t.Context(), rp.AuthURL(p.f)); err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}

	ctx := t.Context()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { killLogins(ctx, c, rp, numbers, l) })
		wg.Go(func() { killRefreshes(ctx, c, l) })
	}
	wg.Go(func() { killMembers(ctx, c, l) })
	waitAcks(t, l, 0, 8, "before the kill")
	time.Sleep(50*time.Millisecond + rand.N(450*time.Millisecond))
	victim := rand.N(len(c.Replicas))
	before := l.acks.Load()
	c.Kill(t, victim)
	t.Logf("replica %d killed with %d acknowledgements so far", victim, before)
	waitAcks(t, l, before, 8, "after the kill")

	for i, p := range pending {
		cb, err := p.b.submit(t.Context(), p.page, p.id, numbers[i%len(numbers)], killPassword)
		if err != nil {
			t.Fatalf("a login begun before the kill, submitted after it: %v", err)
		}
		if status, tok, err := exchange(t.Context(), c.Issuer, p.f, cb); err != nil || status != http.StatusOK {
			t.Fatalf("the code of a login begun before the kill: %d %s %v", status, tok.Error, err)
		}
	}

	served := c.Proxy.Served()[victim]
	c.Restart(t, victim)
	for deadline := time.Now().Add(30 * time.Second); c.Proxy.Served()[victim] < served+5; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replica %d, restarted, took no requests back", victim)
		}
	}
	l.stop.Store(true)
	wg.Wait()
	for _, e := range l.errs {
		t.Error(e)
	}
	killVerify(t, c, l)
}

// killVerify checks that what the ledger holds is in the database.
func killVerify(t *testing.T, c *e2e.Cluster, l *killLedger) {
	t.Helper()
	created := 0
	for n, acked := range l.members {
		out, code := c.TryCLI(t.Context(), "member", "show", n, "--json")
		var m struct {
			Number     string `json:"number"`
			FamilyName string `json:"family_name"`
		}
		switch {
		case code == 0 && json.Unmarshal([]byte(out), &m) == nil && m.Number == n && m.FamilyName == "停止":
			created++
		case !acked && code == 1 && strings.Contains(out, "no member "+n):
		default:
			t.Errorf("member %s (create acknowledged: %v): show exited %d:\n%s", n, acked, code, out)
		}
	}
	ctx := t.Context()
	unknown, replayed := 0, 0
	for i, f := range l.families {
		if f.unknown {
			unknown++
			if status, tok, err := refresh(ctx, c.Issuer, f.current); err != nil || (status != http.StatusOK && tok.Error != "invalid_grant") {
				t.Errorf("a refresh token whose rotation went unanswered: %d %s %v, want it refreshed or refused with invalid_grant", status, tok.Error, err)
			}
			continue
		}
		status, tok, err := refresh(ctx, c.Issuer, f.current)
		if err != nil || status != http.StatusOK {
			t.Errorf("an acknowledged refresh token after the kill: %d %s %s %v", status, tok.Error, tok.Desc, err)
			continue
		}
		if f.rotated == "" || i%4 != 0 {
			continue
		}
		replayed++
		if status, tok, _ := refresh(ctx, c.Issuer, f.rotated); status != http.StatusBadRequest || tok.Error != "invalid_grant" {
			t.Errorf("a rotated refresh token replayed after the kill: %d %s, want invalid_grant", status, tok.Error)
		}
		if status, _, _ := refresh(ctx, c.Issuer, tok.Refresh); status == http.StatusOK {
			t.Error("the family survived the replay of a rotated refresh token")
		}
	}
	t.Logf("checked %d members created by the CLI, %d refresh families (%d replayed, %d whose last rotation went unanswered)",
		created, len(l.families), replayed, unknown)
	if len(l.families) == 0 || created == 0 {
		t.Error("the load acknowledged no family or no member: nothing was checked")
	}
	for _, r := range c.Replicas {
		if status, err := e2e.RawStatus(mustGet(t, r.Base+"/readyz")); err != nil || status != http.StatusOK {
			t.Errorf("%s/readyz after the kill: %d %v", r.Base, status, err)
		}
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
