package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The forwarding headers proxy_header may name.
const (
	ProxyHeaderXForwardedFor = "x-forwarded-for"
	ProxyHeaderForwarded     = "forwarded"
)

// defaultMetricsListen keeps /metrics, which has no authentication, off
// the network unless the operator opens it.
const defaultMetricsListen = "127.0.0.1:9090"

// ParseTrustedProxy reads one trusted_proxies entry: a CIDR such as
// 10.0.0.0/8 or 2001:db8::/48, or a single address (a /32 or /128). It
// refuses what would trust more, or other, than the operator wrote: host
// bits beyond the prefix, IPv6 zones, IPv4-mapped IPv6 (clients are
// compared in their IPv4 form) and /0, which would let every client choose
// the address it is counted under.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("must be a CIDR such as 10.0.0.0/8 or 2001:db8::/48, or a single IP address (got %q)", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("must be a CIDR such as 10.0.0.0/8 or 2001:db8::/48, or a single IP address (got %q)", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("must not name an IPv6 zone (got %q)", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	switch {
	case p.Addr().Is4In6():
		return netip.Prefix{}, fmt.Errorf("is an IPv4-mapped IPv6 address: write it as IPv4, such as %s", netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0)).Masked())
	case p.Bits() == 0:
		return netip.Prefix{}, errors.New("trusts every address, so any client could choose the address it is counted under: list the load balancers' subnet instead")
	case p.Masked() != p:
		return netip.Prefix{}, fmt.Errorf("has bits set beyond its /%d prefix: write %s", p.Bits(), p.Masked())
	}
	return p, nil
}

// TrustedProxyPrefixes parses trusted_proxies (see ParseTrustedProxy); the
// error names the first bad entry by its key path.
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for i, s := range c.TrustedProxies {
		p, err := ParseTrustedProxy(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies[%d]: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// proxies checks trusted_proxies and proxy_header.
func (v *checker) proxies(list []string, header string) {
	for i, s := range list {
		if _, err := ParseTrustedProxy(s); err != nil {
			v.add("trusted_proxies["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	v.oneOf("proxy_header", header, ProxyHeaderXForwardedFor, ProxyHeaderForwarded)
}

// hostPort checks a listen address: host:port or :port.
func (v *checker) hostPort(path, addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(path, "must be host:port or :port (got %q)", addr)
		return false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(path, "port must be a number from 0 to 65535 (got %q)", port)
		return false
	}
	return true
}

// metrics checks the management listener. It cannot be the public one:
// /metrics must not be reachable where the login pages are.
func (v *checker) metrics(m MetricsConfig, listen string) {
	if m.Pprof && !m.Enabled {
		v.add("metrics.pprof", "needs metrics.enabled: the profiles are served on the management listener")
	}
	if m.Listen == "" {
		if m.Enabled {
			v.add("metrics.listen", "must be set while metrics.enabled is true (such as 127.0.0.1:9090); set metrics.enabled: false to serve no metrics")
		}
		return
	}
	if !v.hostPort("metrics.listen", m.Listen) {
		return
	}
	if m.Enabled && sameListener(m.Listen, listen) {
		v.add("metrics.listen", "must differ from listen (%s): metrics are served on a listener of their own, apart from the public one", listen)
	}
	if m.Pprof && m.Enabled && !loopbackHost(m.Listen) {
		v.add("metrics.pprof", "needs a loopback metrics.listen (such as 127.0.0.1:9090), not %s: profiles are for an operator on the replica's own machine", m.Listen)
	}
}

// loopbackHost reports whether a host:port names a loopback address
// (localhost or 127.0.0.0/8 or ::1); an empty host is every interface.
func loopbackHost(hostPort string) bool {
	h, _, err := net.SplitHostPort(hostPort)
	return err == nil && isLoopback(h)
}

// sameListener reports whether two listen addresses would take the same
// port on a common interface (an empty or unspecified host is every
// interface). Port 0 picks a free port, so it never clashes.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	wildcard := func(h string) bool {
		ip, err := netip.ParseAddr(h)
		return h == "" || err == nil && ip.IsUnspecified()
	}
	return ha == hb || wildcard(ha) || wildcard(hb)
}
