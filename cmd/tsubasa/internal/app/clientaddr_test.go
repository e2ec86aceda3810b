package app

import (
	"net/http"
	"strings"
	"testing"

	"tsubasa/config"
)

// TestClientResolverFromConfig: trusted_proxies and proxy_header reach the
// derivation as written; a bad entry is refused by its key path.
func TestClientResolverFromConfig(t *testing.T) {
	h := http.Header{"X-Forwarded-For": {"192.0.2.1"}, "Forwarded": {"for=198.51.100.1"}}
	for _, c := range []struct {
		trusted []string
		header  string
		peer    string
		want    string
	}{
		{nil, config.ProxyHeaderXForwardedFor, "10.0.0.5:1", "10.0.0.5"},
		{[]string{"10.0.0.0/8"}, config.ProxyHeaderXForwardedFor, "10.0.0.5:1", "192.0.2.1"},
		{[]string{"10.0.0.0/8"}, config.ProxyHeaderForwarded, "10.0.0.5:1", "198.51.100.1"},
		{[]string{"10.0.0.5"}, config.ProxyHeaderXForwardedFor, "10.0.0.6:1", "10.0.0.6"},
	} {
		cfg := config.Default()
		cfg.TrustedProxies, cfg.ProxyHeader = c.trusted, c.header
		r, err := clientResolver(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Resolve(c.peer, h).String(); got != c.want {
			t.Errorf("trusted %v, %s, peer %s: %s, want %s", c.trusted, c.header, c.peer, got, c.want)
		}
	}
	cfg := config.Default()
	cfg.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"}
	if _, err := clientResolver(cfg); err == nil || !strings.HasPrefix(err.Error(), "trusted_proxies[1]: ") {
		t.Errorf("bad entry: %v, want an error naming trusted_proxies[1]", err)
	}
}
