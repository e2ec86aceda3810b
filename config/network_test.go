package config

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// problems validates c and returns its problems as "path: message" lines.
func problems(t *testing.T, c Config) []Problem {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate: %T %v", err, err)
	}
	return ve.Problems
}

func TestValidateTrustedProxies(t *testing.T) {
	good := prodConfig()
	good.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/48", " 198.51.100.0/24 ", "2001:db8:1::1"}
	good.ProxyHeader = ProxyHeaderForwarded
	if ps := problems(t, good); len(ps) != 0 {
		t.Fatalf("good proxies refused: %v", ps)
	}
	ps, err := good.TrustedProxyPrefixes()
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/48"),
		netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8:1::1/128"),
	}
	if err != nil || !slices.Equal(ps, want) {
		t.Errorf("TrustedProxyPrefixes = %v, %v; want %v", ps, err, want)
	}

	bad := prodConfig()
	bad.TrustedProxies = []string{"10.0.0.0/8", "load-balancer", "10.1.2.3/8", "0.0.0.0/0", "::/0", "fe80::1%eth0",
		"::ffff:10.0.0.0/104", "10.0.0.0/33", ""}
	bad.ProxyHeader = "x-real-ip"
	got := map[string]string{}
	for _, p := range problems(t, bad) {
		got[p.Path] = p.Message
	}
	for path, msg := range map[string]string{
		"trusted_proxies[1]": `must be a CIDR such as 10.0.0.0/8`,
		"trusted_proxies[2]": "has bits set beyond its /8 prefix: write 10.0.0.0/8",
		"trusted_proxies[3]": "trusts every address",
		"trusted_proxies[4]": "trusts every address",
		"trusted_proxies[5]": "zone",
		"trusted_proxies[6]": "write it as IPv4, such as 10.0.0.0/8",
		"trusted_proxies[7]": "must be a CIDR",
		"trusted_proxies[8]": "must be a CIDR",
		"proxy_header":       "must be one of x-forwarded-for, forwarded",
	} {
		if !strings.Contains(got[path], msg) {
			t.Errorf("%s: %q, want it to say %q", path, got[path], msg)
		}
	}
	if m, ok := got["trusted_proxies[0]"]; ok {
		t.Errorf("a good entry was refused: %s", m)
	}
	if _, err := bad.TrustedProxyPrefixes(); err == nil || !strings.HasPrefix(err.Error(), "trusted_proxies[1]: ") {
		t.Errorf("TrustedProxyPrefixes error %v, want one naming trusted_proxies[1]", err)
	}
}

func TestValidateMetricsListener(t *testing.T) {
	for _, c := range []struct {
		name, listen, metrics string
		enabled               bool
		problem               string // "" = valid
	}{
		{"default", ":8080", "127.0.0.1:9090", true, ""},
		{"all interfaces, other port", ":8080", ":9090", true, ""},
		{"off, no address", ":8080", "", false, ""},
		{"off, the public listener", ":8080", ":8080", false, ""},
		{"off, malformed", ":8080", "localhost", false, "must be host:port"},
		{"port 0", ":0", "127.0.0.1:0", true, ""},
		{"enabled without address", ":8080", "", true, "set metrics.enabled: false to serve no metrics"},
		{"not host:port", ":8080", "9090", true, "must be host:port"},
		{"bad port", ":8080", "127.0.0.1:99999", true, "port must be a number"},
		{"the public listener", ":8080", ":8080", true, "must differ from listen"},
		{"inside the public wildcard", ":8080", "127.0.0.1:8080", true, "must differ from listen"},
		{"same address", "127.0.0.1:8080", "127.0.0.1:8080", true, "must differ from listen"},
		{"unspecified IPv6", "[::]:8080", "127.0.0.1:8080", true, "must differ from listen"},
		{"other interface, same port", "10.0.0.1:8080", "127.0.0.1:8080", true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := prodConfig()
			cfg.Listen, cfg.Metrics = c.listen, MetricsConfig{Enabled: c.enabled, Listen: c.metrics}
			ps := problems(t, cfg)
			switch {
			case c.problem == "" && len(ps) > 0:
				t.Errorf("refused: %v", ps)
			case c.problem != "" && (len(ps) != 1 || ps[0].Path != "metrics.listen" || !strings.Contains(ps[0].Message, c.problem)):
				t.Errorf("problems %v, want one at metrics.listen saying %q", ps, c.problem)
			}
		})
	}
}

// TestValidatePprof: profiles only on a loopback management listener, and
// only with the listener on.
func TestValidatePprof(t *testing.T) {
	for _, c := range []struct {
		name, metrics string
		enabled       bool
		problem       string // "" = valid
	}{
		{"loopback IPv4", "127.0.0.1:9090", true, ""},
		{"loopback IPv6", "[::1]:9090", true, ""},
		{"localhost", "localhost:9090", true, ""},
		{"every interface", ":9090", true, "needs a loopback metrics.listen"},
		{"a private address", "10.0.0.5:9090", true, "needs a loopback metrics.listen"},
		{"a host name", "metrics.internal:9090", true, "needs a loopback metrics.listen"},
		{"metrics off", "127.0.0.1:9090", false, "needs metrics.enabled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := prodConfig()
			cfg.Listen, cfg.Metrics = ":8080", MetricsConfig{Enabled: c.enabled, Listen: c.metrics, Pprof: true}
			ps := problems(t, cfg)
			switch {
			case c.problem == "" && len(ps) > 0:
				t.Errorf("refused: %v", ps)
			case c.problem != "" && (len(ps) != 1 || ps[0].Path != "metrics.pprof" || !strings.Contains(ps[0].Message, c.problem)):
				t.Errorf("problems %v, want one at metrics.pprof saying %q", ps, c.problem)
			}
		})
	}
}

func TestValidateKnownDeviceBudget(t *testing.T) {
	c := prodConfig()
	c.Lockout.KnownDeviceMaxFailures = 0 // off: every device counts against the member
	if ps := problems(t, c); len(ps) != 0 {
		t.Errorf("0 refused: %v", ps)
	}
	c.Lockout.KnownDeviceMaxFailures = -1
	if ps := problems(t, c); len(ps) != 1 || ps[0].Path != "lockout.known_device_max_failures" {
		t.Errorf("-1: %v, want one problem at lockout.known_device_max_failures", ps)
	}
}

// TestEnvNewKeys: the issue names these variables; they come from the
// yaml tags like every other.
func TestEnvNewKeys(t *testing.T) {
	c, err := Load("", []string{"TSUBASA_TRUSTED_PROXIES=10.0.0.0/16, 10.1.0.0/16", "TSUBASA_PROXY_HEADER=forwarded",
		"TSUBASA_METRICS_LISTEN=127.0.0.1:9100", "TSUBASA_LOCKOUT_KNOWN_DEVICE_MAX_FAILURES=2", "TSUBASA_LISTEN=:8443"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.TrustedProxies, []string{"10.0.0.0/16", "10.1.0.0/16"}) || c.ProxyHeader != ProxyHeaderForwarded ||
		c.Metrics.Listen != "127.0.0.1:9100" || c.Lockout.KnownDeviceMaxFailures != 2 || c.Listen != ":8443" {
		t.Errorf("got %q %q %q %d %q", c.TrustedProxies, c.ProxyHeader, c.Metrics.Listen, c.Lockout.KnownDeviceMaxFailures, c.Listen)
	}
}
