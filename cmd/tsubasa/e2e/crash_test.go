package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/provider/notify/notifytest"
	"tsubasa/storage/bolt"
)

const (
	crashPassword   = "Crash-Sora-2026"
	crashIterations = 4
)

func crashMail(number string) string { return "m" + number + "@example.com" }

// crashLedger is what the server acknowledged, as a client saw it.
type crashLedger struct {
	mu      sync.Mutex
	next    int
	acks    atomic.Int32    // acknowledged operations so far
	tried   map[string]bool // member number → create exited 0
	refresh map[string]bool // refresh tokens last returned to the client
	codes   []crashCode     // codes received but not exchanged
	logins  map[string]int  // acknowledged logins per member email
}

type crashCode struct {
	f  Flow
	cb *url.URL
}

func (l *crashLedger) newNumber() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	return fmt.Sprint(3000000 + l.next)
}

func (l *crashLedger) set(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

// TestCrashKeepsAcknowledgedWrites kills the server with SIGKILL at random
// moments under concurrent member creation (CLI through the admin socket),
// logins, code exchanges and refreshes, restarts it on the same file and
// checks that everything it acknowledged survived and nothing is half
// there: created members show in full, refresh tokens the client holds
// still refresh, unexchanged codes either work or are refused cleanly, and
// the file verifies at the end. Where login alerts are wired, every
// acknowledged login's alert mail arrives after the crashes too.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: several restarts under load; skipped with -short")
	}
	mail := notifytest.NewSMTPServer(t)
	_, smtpPort := mail.Addr()
	opts := Options{SMTPPort: smtpPort}
	s := Start(t, opts)
	base := []string{"2000001", "2000002", "2000003"}
	for _, n := range base {
		s.CLI(t, false, "member", "create", "--number", n, "--password", crashPassword,
			"--family-name", "衝突", "--given-name", "試験", "--email", crashMail(n))
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789", "openid", "offline_access")
	l := &crashLedger{tried: map[string]bool{}, refresh: map[string]bool{}, logins: map[string]int{}}
	var alerts atomic.Bool // a device cookie appeared: the risk feature is wired

	for iter := range crashIterations {
		before := len(l.tried)
		var stop atomic.Bool
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(t.Context())
		for range 2 {
			wg.Go(func() { crashCreateMembers(ctx, s, l, &stop) })
			wg.Go(func() { crashLogins(ctx, t, s, rp, base, l, &stop, &alerts) })
		}
		// Kill mid-load: once the load is under way (a slow, race-enabled
		// build needs a while for its first answer), after a random delay.
		start := l.acks.Load()
		for i := 0; i < 3000 && l.acks.Load() == start; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		delay := 50*time.Millisecond + rand.N(450*time.Millisecond)
		time.Sleep(delay)
		stop.Store(true)
		s.sigkill(t)
		wg.Wait() // before the restart: a CLI that found no server opens the file itself
		cancel()
		t.Logf("iteration %d: killed %v after the load got going, with %d members tried, %d refresh tokens held, %d codes pending",
			iter, delay, len(l.tried)-before, len(l.refresh), len(l.codes))
		s = restartOnSameData(t, s, opts)
		crashVerify(t, s, rp, l)
	}

	if alerts.Load() {
		crashWaitAlerts(t, mail, l)
	} else {
		t.Log("login alerts: no device cookie was set, so the risk feature (login alert mail) is not wired in this build; alert durability not checked")
	}
	s.Stop(t)
	// With the server stopped the CLI opens the file itself.
	for n, ok := range l.tried {
		if ok {
			crashShowMember(t, s, n)
		}
	}
	if err := bolt.Verify(t.Context(), filepath.Join(s.Dir, "tsubasa.db")); err != nil {
		t.Fatalf("database after the crashes: %v", err)
	}
}

func crashCreateMembers(ctx context.Context, s *Server, l *crashLedger, stop *atomic.Bool) {
	for i := 0; i < 200 && !stop.Load(); i++ {
		n := l.newNumber()
		l.set(func() { l.tried[n] = false })
		_, code := runTsubasa(ctx, s, "member", "create", "--number", n, "--password", crashPassword,
			"--family-name", "衝突", "--given-name", "試験", "--email", crashMail(n))
		if code == 0 {
			l.set(func() { l.tried[n] = true })
			l.acks.Add(1)
		}
	}
}

// crashLogins logs members in; every third login keeps its code for after
// the restart, the others exchange it and refresh once.
func crashLogins(ctx context.Context, t *testing.T, s *Server, rp *RP, base []string, l *crashLedger, stop, alerts *atomic.Bool) {
	for i := 0; i < 200 && !stop.Load(); i++ {
		n := base[rand.N(len(base))]
		b := newLiveBrowser(s)
		f := NewFlow()
		cb, err := b.login(ctx, rp.AuthURL(f), n, crashPassword)
		if err != nil {
			continue // the server died under the request
		}
		l.set(func() { l.logins[crashMail(n)]++ })
		l.acks.Add(1)
		if b.hasCookie(s, "tsubasa_device") {
			alerts.Store(true)
		}
		if i%3 == 0 {
			l.set(func() { l.codes = append(l.codes, crashCode{f, cb}) })
			continue
		}
		tok, _, err := rp.Exchange(ctx, f, cb)
		if err != nil {
			if serverAnswered(err) && !stop.Load() {
				t.Errorf("code exchange refused by a live server: %v", err)
			}
			continue
		}
		l.set(func() { l.refresh[tok.RefreshToken] = true })
		next, err := rp.OAuth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		switch {
		case err == nil:
			l.set(func() { delete(l.refresh, tok.RefreshToken); l.refresh[next.RefreshToken] = true })
		case serverAnswered(err):
			t.Errorf("refresh refused by a live server: %v", err)
		default:
			// The server may have rotated the token and died before
			// answering: neither token's fate is known.
			l.set(func() { delete(l.refresh, tok.RefreshToken) })
		}
	}
}

// serverAnswered reports whether err is the server's OAuth answer rather than a
// broken connection.
func serverAnswered(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re)
}

func crashVerify(t *testing.T, s *Server, rp *RP, l *crashLedger) {
	t.Helper()
	ctx := t.Context()
	for n, acked := range l.tried {
		out, code := runTsubasa(ctx, s, "member", "show", n, "--json")
		switch {
		case code == 0:
			crashCheckShown(t, n, out)
			l.tried[n] = true // it exists now: it must stay
		case !acked && code == 1 && strings.Contains(out, "no member "+n):
			delete(l.tried, n) // never committed: fine
		default:
			t.Errorf("member %s (create acknowledged: %v): show exited %d:\n%s", n, acked, code, out)
		}
	}
	for rt := range l.refresh {
		delete(l.refresh, rt)
		next, err := rp.OAuth.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			t.Errorf("a refresh token returned to the client no longer refreshes after the crash: %v", err)
			continue
		}
		l.refresh[next.RefreshToken] = true
	}
	for _, c := range l.codes {
		tok, _, err := rp.Exchange(ctx, c.f, c.cb)
		switch {
		case err == nil:
			l.refresh[tok.RefreshToken] = true
		case !IsOAuthError(err, "invalid_grant"):
			t.Errorf("an unexchanged code after the crash: %v, want tokens or invalid_grant", err)
		}
	}
	l.codes = nil
	// A member created under load logs in: hash and number index are whole.
	for n, ok := range l.tried {
		if ok && !strings.HasPrefix(n, "2") {
			b := newLiveBrowser(s)
			if _, err := b.login(ctx, rp.AuthURL(NewFlow()), n, crashPassword); err != nil {
				t.Errorf("member %s created before the crash cannot log in: %v", n, err)
			}
			break
		}
	}
}

func crashShowMember(t *testing.T, s *Server, n string) {
	t.Helper()
	out, code := runTsubasa(t.Context(), s, "member", "show", n, "--json")
	if code != 0 {
		t.Errorf("member %s: show exited %d:\n%s", n, code, out)
		return
	}
	crashCheckShown(t, n, out)
}

func crashCheckShown(t *testing.T, n, out string) {
	t.Helper()
	var m struct {
		Number     string `json:"number"`
		Email      string `json:"email"`
		FamilyName string `json:"family_name"`
		Status     string `json:"status"`
		Password   bool   `json:"has_password"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Errorf("member %s: show output: %v\n%s", n, err, out)
		return
	}
	if m.Number != n || m.Email != crashMail(n) || m.FamilyName != "衝突" || m.Status != "active" || !m.Password {
		t.Errorf("member %s is half there: %+v", n, m)
	}
}

// crashWaitAlerts waits (bounded) until every acknowledged login's alert
// has arrived: the outbox is durable, so a crash may repeat one but never
// lose one. An alert a killed process had claimed is sent once its lease
// (about 45 s) has run out: the bound leaves room for that and a slow
// machine.
func crashWaitAlerts(t *testing.T, mail *notifytest.SMTPServer, l *crashLedger) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		got := map[string]int{}
		for _, m := range mail.Messages() {
			for _, to := range m.To {
				got[to]++
			}
		}
		var missing []string
		for addr, n := range l.logins {
			if got[addr] < n {
				missing = append(missing, fmt.Sprintf("%s: %d of %d", addr, got[addr], n))
			}
		}
		if len(missing) == 0 {
			t.Logf("login alerts: every acknowledged login's alert arrived (%d logins, %d mails)", sumCounts(l.logins), len(mail.Messages()))
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("login alerts lost across crashes: %s", strings.Join(missing, ", "))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
