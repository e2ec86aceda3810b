package clientaddr

import (
	"net/netip"
	"strings"
)

// xffHops splits X-Forwarded-For header fields (several fields are one
// list, in order) into hops, left to right. Empty elements are skipped.
func xffHops(fields []string) []hop {
	var hops []hop
	for _, f := range fields {
		for e := range strings.SplitSeq(f, ",") {
			e = strings.Trim(e, " \t")
			if e == "" {
				continue
			}
			a, ok := parseXFFNode(e)
			hops = append(hops, hop{addr: a, ok: ok})
		}
	}
	return hops
}

// parseXFFNode reads one X-Forwarded-For entry: an IPv4 or IPv6 address,
// "[IPv6]", "[IPv6]:port" or "IPv4:port". Anything else, "unknown"
// included, is not an address.
func parseXFFNode(s string) (netip.Addr, bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		a, ok := parseIP(s[1:end], true)
		if !ok {
			return netip.Addr{}, false
		}
		if rest := s[end+1:]; rest != "" {
			port, found := strings.CutPrefix(rest, ":")
			if !found || !validPort(port) {
				return netip.Addr{}, false
			}
		}
		return a.Unmap(), true
	}
	if a, ok := parseIP(s, false); ok {
		return a.Unmap(), true
	}
	host, port, found := strings.Cut(s, ":")
	if !found || !validPort(port) {
		return netip.Addr{}, false
	}
	a, ok := parseIP(host, false)
	if !ok || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// parseIP parses an address without a zone. With v6 set, only an IPv6
// address (IPv4-mapped included) is accepted.
func parseIP(s string, v6 bool) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || (v6 && !a.Is6()) {
		return netip.Addr{}, false
	}
	return a, true
}

// validPort is 1 to 5 digits, at most 65535.
func validPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	n := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}
