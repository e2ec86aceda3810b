package loadtest

import (
	"context"
	"net"
	"net/url"
	"sync/atomic"
)

// targets sends the connections meant for the issuer to several addresses
// instead, round-robin, as a load balancer in front of replicas does: the
// URLs, the Host header and TLS's server name stay the issuer's, so every
// replica sees the requests it would see behind the balancer, and a flow's
// requests land on whichever replica its connection goes to (no
// stickiness). Only new connections are spread: a kept-alive connection
// stays on its replica, as behind a layer-4 balancer.
type targets struct {
	issuer string   // host:port the requests name
	addrs  []string // host:port to connect to instead
	next   atomic.Uint32
	conns  []atomic.Int64 // connections opened to each address
}

// newTargets parses the --target URLs: each must have the issuer's scheme
// and nothing but a host and port.
func newTargets(issuer *url.URL, raw []string) (*targets, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	t := &targets{issuer: hostPort(issuer), conns: make([]atomic.Int64, len(raw))}
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != issuer.Scheme || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, usage("loadtest: --target %q: want %s://host:port (the issuer's scheme, no path), one per replica", r, issuer.Scheme)
		}
		t.addrs = append(t.addrs, hostPort(u))
	}
	return t, nil
}

// hostPort is u's host with its port, the scheme's default when u names
// none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// wrap returns dial with the issuer's address replaced by the next
// target's.
func (t *targets) wrap(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if t == nil {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != t.issuer {
			return dial(ctx, network, addr)
		}
		i := int((t.next.Add(1) - 1) % uint32(len(t.addrs)))
		c, err := dial(ctx, network, t.addrs[i])
		if err == nil {
			t.conns[i].Add(1)
		}
		return c, err
	}
}

// loopback says whether every target is on a loopback address.
func (t *targets) loopback() bool {
	for _, a := range t.addrs {
		h, _, _ := net.SplitHostPort(a)
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}

// targetReport is how many connections a run opened to one --target.
type targetReport struct {
	Addr        string `json:"addr"`
	Connections int64  `json:"connections"`
}

func (t *targets) report() []targetReport {
	if t == nil {
		return nil
	}
	out := make([]targetReport, len(t.addrs))
	for i, a := range t.addrs {
		out[i] = targetReport{Addr: a, Connections: t.conns[i].Load()}
	}
	return out
}
