package clientaddr

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// The forwarding headers a Resolver can read (config proxy_header).
const (
	HeaderXForwardedFor = "x-forwarded-for"
	HeaderForwarded     = "forwarded"
)

// Resolver derives client addresses. The zero value, and one without
// trusted proxies, always answers with the TCP peer.
type Resolver struct {
	trusted []netip.Prefix
	forward bool // read Forwarded instead of X-Forwarded-For
}

// New returns a Resolver that believes the forwarding header named by
// header (HeaderXForwardedFor or HeaderForwarded) only on connections from
// an address in trusted. Prefixes holding IPv4-mapped IPv6 addresses are
// refused: they would never match, since addresses are compared in their
// IPv4 form.
func New(trusted []netip.Prefix, header string) (*Resolver, error) {
	r := &Resolver{}
	switch header {
	case HeaderXForwardedFor:
	case HeaderForwarded:
		r.forward = true
	default:
		return nil, fmt.Errorf("clientaddr: unknown forwarding header %q (want %s or %s)", header, HeaderXForwardedFor, HeaderForwarded)
	}
	for _, p := range trusted {
		if !p.IsValid() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			return nil, fmt.Errorf("clientaddr: trusted proxy prefix %v must be a plain IPv4 or IPv6 prefix", p)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// Trusts reports whether a is one of the trusted proxies.
func (r *Resolver) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve derives the client address of a request that arrived from
// remoteAddr (http.Request.RemoteAddr) with header h (see the package
// documentation). It is invalid only when remoteAddr is not an address.
func (r *Resolver) Resolve(remoteAddr string, h http.Header) netip.Addr {
	addr := Peer(remoteAddr)
	if !addr.IsValid() || r == nil || !r.Trusts(addr) {
		return addr
	}
	var hops []hop
	if r.forward {
		hops = forwardedHops(h.Values("Forwarded"))
	} else {
		hops = xffHops(h.Values("X-Forwarded-For"))
	}
	for i := len(hops) - 1; i >= 0; i-- {
		if !hops[i].ok {
			return addr // malformed: the last trusted hop is all we know
		}
		addr = hops[i].addr
		if !r.Trusts(addr) {
			return addr
		}
	}
	return addr
}

// hop is one entry of a forwarding header: an address, or a malformed,
// unknown or obfuscated entry (ok false) where the walk must stop.
type hop struct {
	addr netip.Addr
	ok   bool
}

// Peer parses http.Request.RemoteAddr ("ip:port", "[ipv6%zone]:port") into
// the peer's address, without zone and with IPv4-mapped addresses in their
// IPv4 form. It is invalid when remoteAddr holds no address.
func Peer(remoteAddr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return ap.Addr().WithZone("").Unmap()
	}
	if a, err := netip.ParseAddr(strings.Trim(remoteAddr, "[]")); err == nil {
		return a.WithZone("").Unmap()
	}
	return netip.Addr{}
}

type ctxKey struct{}

// Handler derives each request's client address once and keeps it in the
// request's context for From.
func (r *Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		addr := r.Resolve(req.RemoteAddr, req.Header)
		if addr.IsValid() {
			req = req.WithContext(NewContext(req.Context(), addr))
		}
		next.ServeHTTP(w, req)
	})
}

// NewContext returns ctx carrying addr as the client address.
func NewContext(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, ctxKey{}, addr)
}

// FromContext returns the client address Handler derived, if any.
func FromContext(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(ctxKey{}).(netip.Addr)
	return a, ok && a.IsValid()
}

// From returns the request's client address as text ("192.0.2.1",
// "2001:db8::1"): the one Handler derived, or else the TCP peer (headers
// are never read here). When RemoteAddr holds no address at all it
// returns RemoteAddr itself, so that per-address limits, which exempt an
// empty address, still apply.
func From(r *http.Request) string {
	if a, ok := FromContext(r.Context()); ok {
		return a.String()
	}
	if a := Peer(r.RemoteAddr); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}
