package e2e

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// ReplicaHeader is on every answer of a cluster's proxy: the index in
// Cluster.Replicas of the replica the request went to (a 502 of the proxy
// names the one it could not reach), so that a test sees where each
// request of a flow landed.
const ReplicaHeader = "X-Tsubasa-Replica"

// ProxyAddr is the address a cluster's proxy connects to the replicas
// from, the one address they list in trusted_proxies. Clients connect
// from 127.0.0.1 or addresses of their own, never from this one, so a
// client that reaches a replica directly is not believed when it writes
// forwarding headers.
const ProxyAddr = "127.0.0.2"

// proxyFailTimeout is how long the proxy leaves a replica out of the
// rotation after it could not reach it (nginx's passive health check:
// max_fails=1, fail_timeout): then the replica is tried again.
const proxyFailTimeout = time.Second

// Proxy is a cluster's load balancer: a reverse proxy
// (net/http/httputil.ReverseProxy) that sends each request to the next
// replica in turn, with no stickiness. The choice is made per request,
// not per connection, so one browser's requests on one keep-alive
// connection land on every replica in turn; what it keeps open towards
// the replicas is a pool any request may use. Like a cloud load balancer
// it keeps the Host header, appends the address it got the request from
// to X-Forwarded-For (keeping what the client wrote before it) and passes
// a client's Forwarded header through untouched. A request it cannot
// deliver (the replica is down) gets 502 from the proxy and takes that
// replica out of the rotation for a second; the client retries, as a
// browser's user would.
type Proxy struct {
	URL      string // the cluster's issuer: http://host:port
	ln       net.Listener
	backends []*backend // set once, before it serves
	next     atomic.Uint64
}

type backend struct {
	index     int
	proxy     *httputil.ReverseProxy
	downUntil atomic.Int64 // UnixNano; 0 when in the rotation
	served    atomic.Int64 // requests sent there
}

// listenProxy listens on 127.0.0.1:port (a free port when 0), so that
// the replicas can be configured with its URL; host is the host name of
// that URL ("127.0.0.1" or "localhost"). It serves once serve is called
// (connections wait until then).
func listenProxy(t *testing.T, host string, port int) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("cluster proxy: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &Proxy{URL: fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port), ln: ln}
}

// serve sends requests to the replicas at bases, in turn, until the test
// ends.
func (p *Proxy) serve(t *testing.T, bases []string) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ProxyAddr)}, Timeout: 5 * time.Second}
	transport := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}
	for i, base := range bases {
		target, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		b := &backend{index: i}
		b.proxy = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				r.Out.Host = r.In.Host
				r.Out.Header["X-Forwarded-For"] = r.In.Header["X-Forwarded-For"]
				r.Out.Header["Forwarded"] = r.In.Header["Forwarded"]
				r.SetXForwarded()
			},
			Transport:    transport,
			ErrorLog:     log.New(io.Discard, "", 0),
			ErrorHandler: b.unreachable,
		}
		p.backends = append(p.backends, b)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(p.ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// ServeHTTP sends r to the next replica in the rotation.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := p.pick()
	b.served.Add(1)
	w.Header().Set(ReplicaHeader, strconv.Itoa(b.index))
	b.proxy.ServeHTTP(w, r)
}

// Served is how many requests the proxy sent to each replica so far.
func (p *Proxy) Served() []int64 {
	out := make([]int64, len(p.backends))
	for i, b := range p.backends {
		out[i] = b.served.Load()
	}
	return out
}

// pick is the next replica in turn, skipping those that failed within
// proxyFailTimeout, unless every one did.
func (p *Proxy) pick() *backend {
	n := uint64(len(p.backends))
	start := p.next.Add(1) - 1
	now := time.Now().UnixNano()
	for k := range n {
		if b := p.backends[(start+k)%n]; b.downUntil.Load() < now {
			return b
		}
	}
	return p.backends[start%n]
}

// unreachable answers a request the replica did not take (refused
// connection, connection ended before an answer) with 502, and takes the
// replica out of the rotation for a while, unless the client gave up.
func (b *backend) unreachable(w http.ResponseWriter, r *http.Request, _ error) {
	if r.Context().Err() == nil {
		b.downUntil.Store(time.Now().Add(proxyFailTimeout).UnixNano())
	}
	http.Error(w, fmt.Sprintf("cluster proxy: replica %d did not answer", b.index), http.StatusBadGateway)
}
