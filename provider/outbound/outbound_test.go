package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRefusedRanges(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true,
		"192.168.1.1": true, "169.254.169.254": true, "100.64.0.1": true, "0.0.0.0": true, "255.255.255.255": true,
		"224.0.0.1": true, "198.18.0.1": true, "192.0.2.10": true,
		"::1": true, "::": true, "fe80::1": true, "fc00::1": true, "fd12:3456::1": true, "ff02::1": true,
		"::ffff:10.0.0.1": true, "::ffff:127.0.0.1": true, "64:ff9b::a00:1": true, "2002:a00:1::1": true,
		"2001:db8::1": true, "2001::1": true, "fe80::1%eth0": true,
		// Public: allowed.
		"8.8.8.8": false, "1.1.1.1": false, "172.32.0.1": false, "100.128.0.1": false, "192.169.0.1": false,
		"2606:4700:4700::1111": false, "2a00:1450:4001:80b::200e": false, "::ffff:8.8.8.8": false,
	} {
		ip := netip.MustParseAddr(addr)
		if got := Refused(ip); got != refused {
			t.Errorf("Refused(%s) = %v, want %v", addr, got, refused)
		}
	}
	if !Refused(netip.Addr{}) {
		t.Error("the zero address is not refused")
	}
}

// fakeResolver answers every name from its table and counts lookups.
type fakeResolver struct {
	names   map[string][]netip.Addr
	lookups atomic.Int32
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.lookups.Add(1)
	if a, ok := f.names[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

// TestNameResolvingToSpecialAddressIsRefused: a registered name that
// resolves to a private, loopback or metadata address is not dialled; the
// error says why.
func TestNameResolvingToSpecialAddressIsRefused(t *testing.T) {
	res := &fakeResolver{names: map[string][]netip.Addr{
		"internal.partner.example": {netip.MustParseAddr("10.0.0.5")},
		"metadata.partner.example": {netip.MustParseAddr("169.254.169.254")},
		"mixed.partner.example":    {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	}}
	c := New(Options{Resolver: res, Timeout: 2 * time.Second})
	for name := range res.names {
		_, err := c.Get(t.Context(), "https://"+name+"/jwks.json", "application/json")
		if !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("%s: error %v, want ErrRefusedAddress", name, err)
		}
	}
	if res.lookups.Load() != int32(len(res.names)) {
		t.Errorf("%d lookups for %d names", res.lookups.Load(), len(res.names))
	}
	// Literal addresses are judged without a lookup.
	for _, u := range []string{"http://127.0.0.1:1/", "http://[::1]:1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/"} {
		if _, err := c.Get(t.Context(), u, ""); !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("%s: error %v, want ErrRefusedAddress", u, err)
		}
	}
}

// TestControlChecksTheConnectedAddress: the dialer's last check runs on
// the socket's own address, so a name that resolved to something else a
// moment before (DNS rebinding) cannot reach a special-use address.
func TestControlChecksTheConnectedAddress(t *testing.T) {
	c := New(Options{})
	for addr, ok := range map[string]bool{
		"127.0.0.1:443": false, "10.0.0.1:443": false, "[::1]:443": false, "[fe80::1%lo]:443": false,
		"169.254.169.254:80": false, "8.8.8.8:443": true, "[2606:4700:4700::1111]:443": true, "nonsense": false,
	} {
		if err := c.control("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("control(%s) = %v, want allowed %v", addr, err, ok)
		}
	}
	open := New(Options{AllowPrivateNetworks: true})
	if err := open.control("tcp", "127.0.0.1:443", nil); err != nil {
		t.Errorf("with allow_private_networks: %v", err)
	}
}

// TestLoopbackNeedsAllowPrivateNetworks: a loopback server is refused by
// default and reached with the switch on.
func TestLoopbackNeedsAllowPrivateNetworks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()
	if _, err := New(Options{}).Get(t.Context(), srv.URL, ""); !errors.Is(err, ErrRefusedAddress) {
		t.Fatalf("default client: error %v, want ErrRefusedAddress", err)
	}
	body, err := New(Options{AllowPrivateNetworks: true}).Get(t.Context(), srv.URL, "")
	if err != nil || string(body) != `{"keys":[]}` {
		t.Fatalf("allowed client: %q, %v", body, err)
	}
}

// TestAnswerLimits: the body is cut at MaxBytes, redirects are not
// followed, proxies from the environment are not used, and a server that
// does not answer in time fails the request.
func TestAnswerLimits(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 2048))) })
	mux.HandleFunc("/exact", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 1024))) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/exact", http.StatusFound) })
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	c := New(Options{AllowPrivateNetworks: true, MaxBytes: 1024, Timeout: 300 * time.Millisecond})
	if _, err := c.Get(t.Context(), srv.URL+"/big", ""); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2 KiB against a 1 KiB limit: %v", err)
	}
	if b, err := c.Get(t.Context(), srv.URL+"/exact", ""); err != nil || len(b) != 1024 {
		t.Errorf("exactly the limit: %d bytes, %v", len(b), err)
	}
	if _, err := c.Get(t.Context(), srv.URL+"/moved", ""); err == nil || !strings.Contains(err.Error(), "302") {
		t.Errorf("redirect: %v, want the 302 as an error", err)
	}
	if _, err := c.Get(t.Context(), srv.URL+"/slow", ""); err == nil {
		t.Error("a server that never answers: no error")
	}
}

// A delivery stops retrying only where a retry cannot change the answer:
// a 4xx other than 408 and 429, or a refused address while the caller's
// context is alive; a cancelled context, a 5xx or another error retries.
func TestFailsForGood(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	refused := fmt.Errorf("dial: %w", ErrRefusedAddress)
	for _, c := range []struct {
		name string
		ctx  context.Context
		a    Answer
		err  error
		want bool
	}{
		{"400", ctx, Answer{Status: 400}, nil, true},
		{"404", ctx, Answer{Status: 404}, nil, true},
		{"408", ctx, Answer{Status: 408}, nil, false},
		{"429", ctx, Answer{Status: 429}, nil, false},
		{"500", ctx, Answer{Status: 500}, nil, false},
		{"503", ctx, Answer{Status: 503}, nil, false},
		{"302", ctx, Answer{Status: 302}, nil, false},
		{"refused address", ctx, Answer{}, refused, true},
		{"refused address, ctx cancelled", cancelled, Answer{}, refused, false},
		{"other error", ctx, Answer{}, errors.New("connection reset"), false},
	} {
		if got := FailsForGood(c.ctx, c.a, c.err); got != c.want {
			t.Errorf("%s: FailsForGood = %v, want %v", c.name, got, c.want)
		}
	}
	for st, want := range map[int]bool{200: true, 202: true, 204: true, 299: true, 300: false, 199: false, 400: false} {
		if got := (Answer{Status: st}).Delivered(); got != want {
			t.Errorf("Delivered(%d) = %v, want %v", st, got, want)
		}
	}
}
