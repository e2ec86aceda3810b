package clientaddr

import (
	"net/http"
	"net/netip"
	"testing"
)

// checkHops: a parser never hands out an address that is not a plain,
// zone-free, unmapped one.
func checkHops(t *testing.T, in string, hops []hop) {
	t.Helper()
	for _, h := range hops {
		if !h.ok {
			continue
		}
		if !h.addr.IsValid() || h.addr.Zone() != "" || h.addr.Is4In6() {
			t.Fatalf("%q: parsed to %v (valid %v, zone %q)", in, h.addr, h.addr.IsValid(), h.addr.Zone())
		}
	}
}

// FuzzXForwardedFor: whatever a client writes, the entry a trusted proxy
// appends after it decides, and an untrusted peer's header is never read.
func FuzzXForwardedFor(f *testing.F) {
	for _, s := range []string{"", "192.0.2.1", "1.1.1.1, 10.0.0.1", "[2001:db8::1]:80", "unknown", ",,,", "::ffff:10.0.0.1", "fe80::1%eth0", "10.0.0.1:99999"} {
		f.Add(s)
	}
	r := resolver(f, HeaderXForwardedFor)
	f.Fuzz(func(t *testing.T, s string) {
		checkHops(t, s, xffHops([]string{s}))
		h := http.Header{"X-Forwarded-For": {s}}
		if got := r.Resolve("203.0.113.9:80", h); got != netip.MustParseAddr("203.0.113.9") {
			t.Fatalf("untrusted peer, header %q: %v", s, got)
		}
		got := r.Resolve("10.0.0.5:80", h)
		if !got.IsValid() || got.Zone() != "" {
			t.Fatalf("header %q: %v", s, got)
		}
		// A load balancer appends the client it saw, on the same line.
		h.Set("X-Forwarded-For", s+", 192.0.2.77")
		if got := r.Resolve("10.0.0.5:80", h); got != netip.MustParseAddr("192.0.2.77") {
			t.Fatalf("client wrote %q before the proxy's entry: got %v, want 192.0.2.77", s, got)
		}
	})
}

// FuzzForwarded: the same for RFC 7239's header, where a proxy adds its
// element as a field of its own.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{"", "for=192.0.2.1", `for="[2001:db8::1]:4711";proto=https`, "for=unknown", `for="x`, `a="\"";for=1.2.3.4`, "for=_hidden, for=10.0.0.1", ";;,,"} {
		f.Add(s)
	}
	r := resolver(f, HeaderForwarded)
	f.Fuzz(func(t *testing.T, s string) {
		checkHops(t, s, forwardedHops([]string{s}))
		h := http.Header{"Forwarded": {s}}
		if got := r.Resolve("203.0.113.9:80", h); got != netip.MustParseAddr("203.0.113.9") {
			t.Fatalf("untrusted peer, header %q: %v", s, got)
		}
		got := r.Resolve("10.0.0.5:80", h)
		if !got.IsValid() || got.Zone() != "" {
			t.Fatalf("header %q: %v", s, got)
		}
		h.Add("Forwarded", `for="192.0.2.77:4711";proto=https`)
		if got := r.Resolve("10.0.0.5:80", h); got != netip.MustParseAddr("192.0.2.77") {
			t.Fatalf("client wrote %q before the proxy's element: got %v, want 192.0.2.77", s, got)
		}
	})
}
