package outbound

import "net/netip"

// special are the ranges no registered address may reach: the entries of
// the IANA IPv4 and IPv6 Special-Purpose Address Registries that are not
// globally reachable, multicast and the reserved blocks, and the IPv6
// prefixes that embed an IPv4 address, which a translator would forward to
// whatever IPv4 address is inside (a private one included).
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		// IPv4 (RFC 6890 and its updates).
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // shared address space (carrier-grade NAT)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local: cloud instance metadata lives here
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"192.31.196.0/24", // AS112-v4
		"192.52.193.0/24", // AMT
		"192.88.99.0/24",  // deprecated 6to4 relay anycast
		"192.168.0.0/16",  // private
		"192.175.48.0/24", // direct delegation AS112
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and the limited broadcast address
		"::/8",            // unspecified, loopback, IPv4-compatible (deprecated)
		"64:ff9b::/96",    // NAT64, well-known prefix (embeds IPv4)
		"64:ff9b:1::/48",  // NAT64, local-use
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments (Teredo embeds IPv4)
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4 (embeds IPv4)
		"3fff::/20",       // documentation
		"5f00::/16",       // SRv6 SIDs
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Refused reports whether ip is in a special-use range. An IPv4-mapped
// IPv6 address (::ffff:a.b.c.d) is judged as a.b.c.d; an invalid address
// is refused.
func Refused(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range special {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
