package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Problem is one validation failure: the key path (as in the YAML file,
// e.g. clients[1].redirect_uris[0]) and what is wrong with it.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every problem Validate found, in key order.
type ValidationError struct {
	Problems []Problem
}

// Error gives one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks the whole configuration and reports every problem at once
// as a *ValidationError. It reads no files and opens no connections; the only
// outside data it consults is the time zone database (compiled in as a
// fallback). Client defaults are applied before the client checks, so a
// Config built in code is judged as Load would complete it.
func (c Config) Validate() error { return c.ValidateShipped(Shipped{}) }

// ValidateShipped is Validate, and also checks each name the configuration
// gives against what the binary ships (see Shipped).
func (c Config) ValidateShipped(s Shipped) error {
	v := &checker{dev: c.Dev, shipped: s}
	v.issuer(c.Issuer)
	v.listen(c.Listen)
	if c.Secret != "" && len(c.Secret) < 32 {
		v.add("secret", "must be at least 32 bytes (or empty to generate one)")
	}
	v.proxies(c.TrustedProxies, c.ProxyHeader)
	v.oneOf("log.level", c.Log.Level, LogLevelDebug, LogLevelInfo, LogLevelWarn, LogLevelError)
	v.oneOf("log.format", c.Log.Format, LogFormatJSON, LogFormatText)
	v.storage(c.Storage)
	v.cluster(c)
	v.brand(c.Brand)
	v.ui(c.UI)
	v.clients(c.Clients, c.Keys.Algorithm)
	v.tokens(c.Tokens)
	v.keys(c.Keys)
	v.positive("session.ttl", c.Session.TTL)
	v.positive("session.idle_ttl", c.Session.IdleTTL)
	if c.Session.IdleTTL > c.Session.TTL && c.Session.TTL > 0 {
		v.add("session.idle_ttl", "must not exceed session.ttl")
	}
	v.password(c.Password)
	v.lockout(c.Lockout)
	v.atLeast("runtime.gc_percent", c.Runtime.GCPercent, 25)
	v.atLeast("runtime.memory_limit_mib", c.Runtime.MemoryLimitMiB, 0)
	v.atLeast("runtime.max_procs", c.Runtime.MaxProcs, 0)
	v.legacyPIN(c.LegacyPIN)
	v.otp(c.OTP)
	v.mail(c.Mail)
	v.sms(c.SMS)
	v.alerts(c.Alerts)
	v.passkeys(c)
	v.passkeyApps(c) // validate_experience.go
	v.geoip(c.GeoIP)
	v.contacts(c.Contacts)
	v.metrics(c.Metrics, c.Listen)
	v.partner(c.PAR, c.Outbound)
	v.device(c.Device) // validate_device.go
	v.limits(c.Limits) // validate_limits.go
	v.audit(c.Audit)   // validate_audit.go
	v.backchannelClients(c.Clients, c.Outbound.AllowPrivateNetworks)
	v.dpop(c.DPoP)
	v.adminAPI(c.Admin.API)
	v.adminSupport(c.Admin.Support)
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

type checker struct {
	dev      bool
	shipped  Shipped
	problems []Problem
}

func (v *checker) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *checker) nonEmpty(path, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(path, "must not be empty")
	}
}

func (v *checker) oneOf(path, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		v.add(path, "must be one of %s (got %q)", strings.Join(allowed, ", "), s)
	}
}

func (v *checker) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be a positive duration such as 90s, 15m or 12h")
	}
}

func (v *checker) atLeast(path string, n, lo int) {
	if n < lo {
		v.add(path, "must be at least %d", lo)
	}
}

func (v *checker) between(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(path, "must be from %d to %d", lo, hi)
	}
}

// isLoopback reports whether host names this machine, where plain http
// cannot be intercepted on the network.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

const badURL = "must be an absolute http(s) URL without fragment"

// webURL checks an absolute http(s) URL. With secure set, plain http is
// refused unless the host is loopback or dev mode is on.
func (v *checker) webURL(path, raw string, secure bool) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") {
		v.add(path, badURL)
		return nil, false
	}
	if u.User != nil {
		v.add(path, "must not contain a user name or password")
		return nil, false
	}
	if secure && u.Scheme == "http" && !v.dev && !isLoopback(u.Hostname()) {
		v.add(path, "must use https (http is allowed only for localhost, 127.0.0.1, ::1 or in dev mode)")
		return nil, false
	}
	return u, true
}

// optionalURL checks an http(s) URL when one is given.
func (v *checker) optionalURL(path, raw string) {
	if raw != "" {
		v.webURL(path, raw, false)
	}
}

func (v *checker) issuer(raw string) {
	if raw == "" {
		v.add("issuer", "must not be empty")
		return
	}
	u, ok := v.webURL("issuer", raw, true)
	if !ok {
		return
	}
	switch {
	case u.RawQuery != "" || u.ForceQuery:
		v.add("issuer", "must not have a query")
	case strings.HasSuffix(u.Path, "/"):
		// Relying parties compare the issuer string exactly; a trailing
		// slash also doubles the one before .well-known.
		v.add("issuer", "must not end with /")
	}
}

func (v *checker) listen(addr string) {
	if addr == "" {
		v.add("listen", "must not be empty")
		return
	}
	v.hostPort("listen", addr)
}

func validColor(s string) bool {
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, r := range s[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
