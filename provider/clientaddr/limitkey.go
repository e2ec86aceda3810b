package clientaddr

import "net/netip"

// DefaultIPv6Prefix is the prefix length per-address limits count an IPv6
// client under when none is configured: a /64 is the smallest network an
// ISP hands a subscriber (RFC 6177) and the one SLAAC gives each link, so
// a single host can pick any of its 2^64 addresses.
const DefaultIPv6Prefix = 64

// LimitKey returns what every per-address rate limit counts addr under:
// the address itself for IPv4 (an IPv4-mapped IPv6 address is its IPv4
// form), and for IPv6 the network of its first ipv6Prefix bits
// ("2001:db8:1:2::/64"; the address alone at 128). A client cannot spread
// guesses over the addresses of its network, since they all share one
// count.
//
// It is for limit keys only: the login history, alerts, device records,
// GeoIP and logs keep the full address. ipv6Prefix outside 1..128 means
// DefaultIPv6Prefix (config validates the range). An empty addr stays
// empty (callers exempt it: a command-line caller has none), and what is
// not an address is returned as it is, so that it is still limited.
func LimitKey(addr string, ipv6Prefix int) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	if ipv6Prefix < 1 || ipv6Prefix > 128 {
		ipv6Prefix = DefaultIPv6Prefix
	}
	if ipv6Prefix == 128 {
		return a.String()
	}
	p, err := a.Prefix(ipv6Prefix)
	if err != nil { // cannot happen: a is IPv6 and the length in range
		return a.String()
	}
	return p.String()
}
