package clientaddr

import (
	"net/netip"
	"testing"
)

func TestLimitKey(t *testing.T) {
	for _, c := range []struct {
		name, addr string
		prefix     int
		want       string
	}{
		{"IPv4 is its own key", "192.0.2.1", 64, "192.0.2.1"},
		{"IPv4 ignores the IPv6 prefix", "192.0.2.1", 48, "192.0.2.1"},
		{"IPv4-mapped is its IPv4 address", "::ffff:192.0.2.1", 64, "192.0.2.1"},
		{"IPv6 counts under its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64"},
		{"another address of the /64, one key", "2001:db8:1:2::1", 64, "2001:db8:1:2::/64"},
		{"the next /64, another key", "2001:db8:1:3::1", 64, "2001:db8:1:3::/64"},
		{"a /48", "2001:db8:1:2::1", 48, "2001:db8:1::/48"},
		{"a /56", "2001:db8:1:2ff::1", 56, "2001:db8:1:200::/56"},
		{"128 is the address", "2001:db8::1", 128, "2001:db8::1"},
		{"0 means the default /64", "2001:db8:1:2::1", 0, "2001:db8:1:2::/64"},
		{"out of range means the default /64", "2001:db8:1:2::1", 129, "2001:db8:1:2::/64"},
		{"zone dropped", "fe80::1%eth0", 64, "fe80::/64"},
		{"loopback", "::1", 64, "::/64"},
		{"empty stays empty (exempt)", "", 64, ""},
		{"not an address stays as it is (still limited)", "pipe", 64, "pipe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := LimitKey(c.addr, c.prefix); got != c.want {
				t.Errorf("LimitKey(%q, %d) = %q, want %q", c.addr, c.prefix, got, c.want)
			}
		})
	}
}

// Every address of a network shares the key of the network, whatever
// the host bits: rotating them buys nothing. At 128 each address is its
// own key again.
func TestLimitKeySameForEveryHostOfThePrefix(t *testing.T) {
	lo, hi := "2001:db8:aaaa:bbbb::1", "2001:db8:aaaa:bbbb:ffff:ffff:ffff:fffe"
	for _, prefix := range []int{48, 56, 64} {
		if a, b := LimitKey(lo, prefix), LimitKey(hi, prefix); a != b {
			t.Errorf("/%d: %s and %s count apart: %s, %s", prefix, lo, hi, a, b)
		}
	}
	if a, b := LimitKey(lo, 128), LimitKey(hi, 128); a == b {
		t.Errorf("/128: %s and %s share %s", lo, hi, a)
	}
}

// FuzzLimitKey: for any address and prefix length, the key is bounded
// (no more than "ffff:…:ffff/127", so a flood of addresses cannot grow a
// record's key), every address of the key's network has the same key,
// and an IPv4 address (mapped or not) is its own key.
func FuzzLimitKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8:1:2::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1%eth0", "", "x"} {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, prefix int) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		key := LimitKey(s, prefix)
		if len(key) > len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127") {
			t.Fatalf("LimitKey(%q, %d) = %q: too long", s, prefix, key)
		}
		a = a.WithZone("").Unmap()
		if a.Is4() {
			if key != a.String() {
				t.Fatalf("LimitKey(%q, %d) = %q, want the IPv4 address %s", s, prefix, key, a)
			}
			return
		}
		bits := prefix
		if bits < 1 || bits > 128 {
			bits = DefaultIPv6Prefix
		}
		// The last address of the network shares the key.
		b := a.As16()
		for i := bits; i < 128; i++ {
			b[i/8] |= 1 << (7 - i%8)
		}
		last := netip.AddrFrom16(b)
		if last.Is4In6() {
			return // a network around ::ffff:0:0/96 (reserved) ends in IPv4 addresses, each its own key
		}
		if other := LimitKey(last.String(), prefix); other != key {
			t.Fatalf("/%d: %s has key %q, %s of the same network %q", bits, s, key, last, other)
		}
	})
}
