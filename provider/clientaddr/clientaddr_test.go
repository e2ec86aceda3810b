package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// trusted are the proxies of the tests: a load balancer subnet, an IPv6
// one, and a CDN edge.
var trusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
	netip.MustParsePrefix("198.51.100.7/32"),
}

func resolver(t testing.TB, header string) *Resolver {
	t.Helper()
	r, err := New(trusted, header)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolveXForwardedFor(t *testing.T) {
	r := resolver(t, HeaderXForwardedFor)
	for _, c := range []struct {
		name, peer string
		xff        []string // header fields, in order
		want       string
	}{
		{"untrusted peer, no header", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer spoofing the header", "203.0.113.9:5000", []string{"192.0.2.1"}, "203.0.113.9"},
		{"untrusted peer spoofing a trusted address", "203.0.113.9:5000", []string{"10.1.2.3"}, "203.0.113.9"},
		{"trusted peer without header", "10.0.0.5:80", nil, "10.0.0.5"},
		{"trusted peer, empty header", "10.0.0.5:80", []string{""}, "10.0.0.5"},
		{"trusted peer, one client", "10.0.0.5:80", []string{"192.0.2.1"}, "192.0.2.1"},
		{"client's spoofed entries left of the real one", "10.0.0.5:80", []string{"1.1.1.1, 10.9.9.9, 192.0.2.1"}, "192.0.2.1"},
		{"client spoofs a trusted address on the left", "10.0.0.5:80", []string{"10.9.9.9, 192.0.2.1"}, "192.0.2.1"},
		{"CDN then load balancer", "10.0.0.5:80", []string{"192.0.2.1, 198.51.100.7"}, "192.0.2.1"},
		{"CDN then load balancer, spoofed leftmost", "10.0.0.5:80", []string{"6.6.6.6, 192.0.2.1, 198.51.100.7"}, "192.0.2.1"},
		{"several fields are one list", "10.0.0.5:80", []string{"6.6.6.6", "192.0.2.1, 10.0.0.6"}, "192.0.2.1"},
		{"every hop trusted", "10.0.0.5:80", []string{"10.0.0.7, 10.0.0.6"}, "10.0.0.7"},
		{"IPv6 client", "10.0.0.5:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6 client in brackets with port", "10.0.0.5:80", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv4 client with port", "10.0.0.5:80", []string{"192.0.2.1:4711"}, "192.0.2.1"},
		{"IPv4-mapped client", "10.0.0.5:80", []string{"::ffff:192.0.2.1"}, "192.0.2.1"},
		{"IPv6 peer trusted", "[2001:db8:ffff::10]:443", []string{"192.0.2.1"}, "192.0.2.1"},
		{"IPv4-mapped trusted peer", "[::ffff:10.0.0.5]:80", []string{"192.0.2.1"}, "192.0.2.1"},
		{"OWS and empty elements", "10.0.0.5:80", []string{" 192.0.2.1 ,\t, 10.0.0.6 "}, "192.0.2.1"},
		{"malformed rightmost: stop at the peer", "10.0.0.5:80", []string{"192.0.2.1, garbage"}, "10.0.0.5"},
		{"malformed behind a trusted hop", "10.0.0.5:80", []string{"192.0.2.1, nonsense, 10.0.0.6"}, "10.0.0.6"},
		{"unknown stops", "10.0.0.5:80", []string{"192.0.2.1, unknown"}, "10.0.0.5"},
		{"zone refused", "10.0.0.5:80", []string{"fe80::1%eth0"}, "10.0.0.5"},
		{"port out of range", "10.0.0.5:80", []string{"192.0.2.1:70000"}, "10.0.0.5"},
		{"IPv6 with port but no brackets", "10.0.0.5:80", []string{"2001:db8::1:4711:1:2:3:4"}, "10.0.0.5"},
		{"leading zeros", "10.0.0.5:80", []string{"192.0.2.01"}, "10.0.0.5"},
		{"bracketed IPv4", "10.0.0.5:80", []string{"[192.0.2.1]"}, "10.0.0.5"},
		{"spaces inside", "10.0.0.5:80", []string{"192.0.2.1 192.0.2.2"}, "10.0.0.5"},
		{"quoted", "10.0.0.5:80", []string{`"192.0.2.1"`}, "10.0.0.5"},
		{"Forwarded is not read", "10.0.0.5:80", nil, "10.0.0.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.xff {
				h.Add("X-Forwarded-For", v)
			}
			h.Set("Forwarded", "for=192.0.2.99")
			if got := r.Resolve(c.peer, h); got.String() != c.want {
				t.Errorf("Resolve(%s, %q) = %v, want %s", c.peer, c.xff, got, c.want)
			}
		})
	}
}

func TestResolveForwarded(t *testing.T) {
	r := resolver(t, HeaderForwarded)
	for _, c := range []struct {
		name, peer string
		fwd        []string
		want       string
	}{
		{"untrusted peer spoofing", "203.0.113.9:5000", []string{"for=192.0.2.1"}, "203.0.113.9"},
		{"one client", "10.0.0.5:80", []string{"for=192.0.2.1"}, "192.0.2.1"},
		{"RFC 7239 example", "10.0.0.5:80", []string{"for=192.0.2.60;proto=http;by=203.0.113.43"}, "192.0.2.60"},
		{"case of the name", "10.0.0.5:80", []string{"For=192.0.2.1"}, "192.0.2.1"},
		{"quoted IPv4 with port", "10.0.0.5:80", []string{`for="192.0.2.1:4711"`}, "192.0.2.1"},
		{"quoted IPv6 with port", "10.0.0.5:80", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"quoted IPv6", "10.0.0.5:80", []string{`for="[2001:db8:cafe::17]"`}, "2001:db8:cafe::17"},
		{"obfuscated port", "10.0.0.5:80", []string{`for="192.0.2.1:_p1"`}, "192.0.2.1"},
		{"chain, spoofed left", "10.0.0.5:80", []string{"for=6.6.6.6, for=192.0.2.1;proto=https, for=198.51.100.7"}, "192.0.2.1"},
		{"several fields", "10.0.0.5:80", []string{"for=6.6.6.6", "for=192.0.2.1", "for=10.0.0.6"}, "192.0.2.1"},
		{"comma inside a quoted value", "10.0.0.5:80", []string{`for=192.0.2.1;host="a,b"`}, "192.0.2.1"},
		{"spaces around pairs", "10.0.0.5:80", []string{"for=192.0.2.1 ; proto=https"}, "192.0.2.1"},
		{"empty elements", "10.0.0.5:80", []string{" , for=192.0.2.1 , "}, "192.0.2.1"},
		{"escaped quote in another value", "10.0.0.5:80", []string{`host="a\"b";for=192.0.2.1`}, "192.0.2.1"},
		{"IPv4-mapped", "10.0.0.5:80", []string{`for="[::ffff:192.0.2.1]"`}, "192.0.2.1"},
		{"unknown stops", "10.0.0.5:80", []string{"for=192.0.2.1, for=unknown"}, "10.0.0.5"},
		{"obfuscated stops", "10.0.0.5:80", []string{"for=192.0.2.1, for=_hidden"}, "10.0.0.5"},
		{"obfuscated behind a trusted hop", "10.0.0.5:80", []string{"for=_hidden, for=10.0.0.6"}, "10.0.0.6"},
		{"no for", "10.0.0.5:80", []string{"for=192.0.2.1, by=10.0.0.5;proto=https"}, "10.0.0.5"},
		{"for twice", "10.0.0.5:80", []string{"for=6.6.6.6;for=192.0.2.1"}, "10.0.0.5"},
		{"bare IPv6", "10.0.0.5:80", []string{`for="2001:db8::1"`}, "10.0.0.5"},
		{"unquoted IPv6", "10.0.0.5:80", []string{"for=[2001:db8::1]"}, "10.0.0.5"},
		{"unquoted port", "10.0.0.5:80", []string{"for=192.0.2.1:4711"}, "10.0.0.5"},
		{"unterminated quote swallows the field", "10.0.0.5:80", []string{`for="6.6.6.6, for=192.0.2.1`}, "10.0.0.5"},
		{"unterminated quote in an earlier field", "10.0.0.5:80", []string{`for="6.6.6.6`, "for=192.0.2.1"}, "192.0.2.1"},
		{"text after the closing quote", "10.0.0.5:80", []string{`for="192.0.2.1"x`}, "10.0.0.5"},
		{"control character", "10.0.0.5:80", []string{"for=\"192.0.2.1\x01\""}, "10.0.0.5"},
		{"no equals sign", "10.0.0.5:80", []string{"for"}, "10.0.0.5"},
		{"empty for", "10.0.0.5:80", []string{`for=""`}, "10.0.0.5"},
		{"bad port", "10.0.0.5:80", []string{`for="192.0.2.1:"`}, "10.0.0.5"},
		{"zone", "10.0.0.5:80", []string{`for="[fe80::1%eth0]"`}, "10.0.0.5"},
		{"X-Forwarded-For is not read", "10.0.0.5:80", nil, "10.0.0.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.fwd {
				h.Add("Forwarded", v)
			}
			h.Set("X-Forwarded-For", "192.0.2.99")
			if got := r.Resolve(c.peer, h); got.String() != c.want {
				t.Errorf("Resolve(%s, %q) = %v, want %s", c.peer, c.fwd, got, c.want)
			}
		})
	}
}

func TestNoTrustedProxies(t *testing.T) {
	r, err := New(nil, HeaderXForwardedFor)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-Forwarded-For": {"192.0.2.1"}}
	if got := r.Resolve("127.0.0.1:5000", h); got.String() != "127.0.0.1" {
		t.Errorf("without trusted proxies the header was read: %v", got)
	}
	var zero *Resolver
	if got := zero.Resolve("127.0.0.1:5000", h); got.String() != "127.0.0.1" {
		t.Errorf("nil Resolver: %v", got)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      []netip.Prefix
		header string
	}{
		{"unknown header", trusted, "x-real-ip"},
		{"IPv4-mapped prefix", []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}, HeaderXForwardedFor},
		{"invalid prefix", []netip.Prefix{{}}, HeaderXForwardedFor},
	} {
		if _, err := New(c.p, c.header); err == nil {
			t.Errorf("%s: New accepted it", c.name)
		}
	}
	// A prefix with host bits set is taken as its network.
	r, err := New([]netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}, HeaderXForwardedFor)
	if err != nil || !r.Trusts(netip.MustParseAddr("10.200.0.1")) {
		t.Errorf("10.1.2.3/8 does not cover 10.200.0.1: %v", err)
	}
}

func TestPeer(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:80":          "192.0.2.1",
		"[2001:db8::1]:443":     "2001:db8::1",
		"[fe80::1%eth0]:443":    "fe80::1",
		"[::ffff:192.0.2.1]:80": "192.0.2.1",
		"192.0.2.1":             "192.0.2.1",
		"@":                     "invalid IP",
		"":                      "invalid IP",
	} {
		if got := Peer(in).String(); got != want {
			t.Errorf("Peer(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestHandlerAndFrom: the middleware derives the address once and From
// reads it; without the middleware From gives the peer, never a header.
func TestHandlerAndFrom(t *testing.T) {
	r := resolver(t, HeaderXForwardedFor)
	var got string
	h := r.Handler(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		got = From(req)
		// A header changed after the middleware ran changes nothing.
		req.Header.Set("X-Forwarded-For", "6.6.6.6")
		if again := From(req); again != got {
			t.Errorf("From changed with the header: %s then %s", got, again)
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.0.0.5:1234"
	req.Header.Set("X-Forwarded-For", "192.0.2.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != "192.0.2.1" {
		t.Errorf("through the middleware: %q, want 192.0.2.1", got)
	}

	bare := httptest.NewRequest(http.MethodGet, "/", nil)
	bare.RemoteAddr = "10.0.0.5:1234"
	bare.Header.Set("X-Forwarded-For", "192.0.2.1")
	if got := From(bare); got != "10.0.0.5" {
		t.Errorf("without the middleware: %q, want the peer 10.0.0.5", got)
	}
	bare.RemoteAddr = "pipe"
	if got := From(bare); got != "pipe" {
		t.Errorf("unparsable RemoteAddr: %q, want it as it is (never empty, which limits exempt)", got)
	}
}
