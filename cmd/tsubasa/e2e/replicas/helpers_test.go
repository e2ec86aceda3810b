package replicas

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
)

// landings records, for every answer a browser got through the cluster's
// proxy, the replica that gave it (e2e.ReplicaHeader).
type landings struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []landing
}

// landing is one request: where it went, the replica that answered, and
// whether it went over a connection an earlier request had opened.
type landing struct {
	method, path, replica string
	reused                bool
}

func (l *landings) RoundTrip(req *http.Request) (*http.Response, error) {
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) { reused = c.Reused }}
	resp, err := l.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err == nil {
		l.mu.Lock()
		l.seen = append(l.seen, landing{req.Method, req.URL.Path, resp.Header.Get(e2e.ReplicaHeader), reused})
		l.mu.Unlock()
	}
	return resp, err
}

// all returns what was recorded so far and starts afresh.
func (l *landings) all() []landing {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.seen
	l.seen = nil
	return out
}

// dialFrom dials from the loopback address from.
func dialFrom(from string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	return d.DialContext
}

// browserFrom is a browser whose connections come from the loopback
// address from, recording where its requests land.
func browserFrom(t *testing.T, s *e2e.Server, from string) (*e2e.Browser, *landings) {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	l := &landings{next: &http.Transport{DialContext: dialFrom(from)}}
	b.Transport = l
	return b, l
}

// mustRotate fails the test unless consecutive requests in seen landed
// on different replicas and every one of n replicas answered some.
func mustRotate(t *testing.T, what string, seen []landing, n int) {
	t.Helper()
	var replicas []string
	for i, l := range seen {
		if l.replica == "" {
			t.Fatalf("%s: %s %s has no %s: not through the cluster's proxy", what, l.method, l.path, e2e.ReplicaHeader)
		}
		if i > 0 && l.replica == seen[i-1].replica {
			t.Errorf("%s: %s %s and the request before it both landed on replica %s", what, l.method, l.path, l.replica)
		}
		if !slices.Contains(replicas, l.replica) {
			replicas = append(replicas, l.replica)
		}
	}
	if len(replicas) != n {
		t.Errorf("%s: %d requests landed on replicas %v, want all %d: %v", what, len(seen), replicas, n, seen)
	}
}

// replicaOf is the replica that gave resp (e2e.ReplicaHeader).
func replicaOf(t *testing.T, resp *http.Response) int {
	t.Helper()
	i, err := strconv.Atoi(resp.Header.Get(e2e.ReplicaHeader))
	if err != nil {
		t.Fatalf("answer without %s: not through the cluster's proxy", e2e.ReplicaHeader)
	}
	return i
}

// everyReplicaWithin checks, on each replica directly, that refused(base)
// holds within c.RevocationDelay of since (the answer to the revoking act:
// its commit came before): it polls until each has refused, and once the
// bound has passed it asks the ones left again, which must refuse. It
// returns how long after since each replica first refused, for the log.
func everyReplicaWithin(t *testing.T, c *e2e.Cluster, since time.Time, what string, refused func(base string) bool) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(c.Replicas))
	left := len(c.Replicas)
	deadline := since.Add(c.RevocationDelay)
	for left > 0 {
		late := time.Now().After(deadline)
		for i, r := range c.Replicas {
			if took[i] != 0 {
				continue
			}
			switch {
			case refused(r.Base):
				took[i] = max(time.Since(since), time.Nanosecond)
				left--
			case late:
				t.Fatalf("%s: replica %d still accepts it %v after the revoking answer (storage.postgres.revocation_delay %v)",
					what, i, time.Since(since).Round(time.Millisecond), c.RevocationDelay)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return took
}

// userinfoStatus is the status /userinfo at base answers access with.
func userinfoStatus(t *testing.T, base, access string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	return e2e.WireDo(t, req).Status
}

// decodeJSON decodes resp's body into v.
func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

// sendFrom sends req with b's cookies and reads the answer, returning
// transport errors instead of failing the test: for goroutines, where a
// test may not stop.
func sendFrom(b *e2e.Browser, req *http.Request) (e2e.Page, error) {
	resp, err := b.Do(req)
	if err != nil {
		return e2e.Page{}, err
	}
	defer resp.Body.Close()
	return e2e.PageOf(resp), nil
}

// sameOriginPost is the form post Browser.Post makes, for sendFrom.
func sameOriginPost(ctx context.Context, pageURL *url.URL, action string, form url.Values) *http.Request {
	req := e2e.NewFormRequest(ctx, pageURL.ResolveReference(&url.URL{Path: action}).String(), form.Encode())
	req.Header.Set("Origin", pageURL.Scheme+"://"+pageURL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}
