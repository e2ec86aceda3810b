package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/config"
)

// loadOptions are the loadtest command's flags.
type loadOptions struct {
	issuer       string
	scenario     string
	concurrency  int
	duration     time.Duration
	timeout      time.Duration
	clientID     string
	clientSecret string
	redirectURI  string
	member       string // first member number
	members      int    // members numbered from member on, spread over workers
	password     string
	scopes       string
	pid          int
	sourceAddrs  int
	honorRetry   bool
	json         bool
	setup        bool
	alg          string
	cpuProfile   string
}

func newLoadtestCmd(g *globals) *cobra.Command {
	o := loadOptions{}
	cmd := &cobra.Command{
		Use:   "loadtest --issuer URL --scenario NAME [flags]",
		Short: "Drive a running server with load and report throughput and latency",
		Long: `Drive a running Tsubasa with concurrent clients for a while and report
iterations and requests per second, latency percentiles and errors per HTTP
status. Scenarios:

` + scenarioHelp() + `
--setup creates a confidential client and --members members through the
running server's admin socket (found through --config) and prints the flags
to use; with --scenario it then runs the load with them. The login scenario
also reports the password-hash ceiling: argon2id time per hash (the
config's parameters, measured here) times the cores. --pid names the server
process whose resident memory to watch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.loadtest(cmd.Context(), o, cmd.Flags().Changed("members"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "issuer URL of the server (default: the config's issuer)")
	f.StringVar(&o.scenario, "scenario", "", "scenario: "+strings.Join(scenarioNames(), ", "))
	f.IntVar(&o.concurrency, "concurrency", 16, "concurrent workers (simulated clients)")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	f.StringVar(&o.clientID, "client", "", "client id")
	f.StringVar(&o.clientSecret, "client-secret", "", "client secret")
	f.StringVar(&o.redirectURI, "redirect-uri", "", "redirect URI of the client (default: <issuer>/loadtest/cb)")
	f.StringVar(&o.member, "member", "", "member number (the first of --members consecutive numbers)")
	f.IntVar(&o.members, "members", 1, "members to log in as, numbered from --member; with --setup, members to create (default 50)")
	f.StringVar(&o.password, "password", "", "the members' password (with --setup: default Tsubame-Flight-2026)")
	f.StringVar(&o.scopes, "scope", "openid profile email membership offline_access", "scopes to ask for")
	f.IntVar(&o.pid, "pid", 0, "server process id: report its peak resident memory (Linux)")
	f.IntVar(&o.sourceAddrs, "source-addrs", 0,
		"spread connections over this many loopback source addresses 127.0.0.1… (loopback issuers only), as if from many clients")
	f.BoolVar(&o.honorRetry, "honor-retry-after", true, "after a 429 or 503, wait as Retry-After says (at most the rest of the run)")
	f.BoolVar(&o.json, "json", false, "print one JSON object instead of a table")
	f.BoolVar(&o.setup, "setup", false, "create the load-test client and members through the admin socket")
	f.StringVar(&o.alg, "alg", "ES256", "with --setup: ID token algorithm of the client, RS256 or ES256 (the client id ends in it)")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this command (not the server) to the file")
	return cmd
}

func scenarioHelp() string {
	var b strings.Builder
	for _, n := range scenarioNames() {
		fmt.Fprintf(&b, "  %-19s %s\n", n, scenarios[n].help)
	}
	return b.String()
}

// endpoints are the server's, from discovery.
type endpoints struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Userinfo      string `json:"userinfo_endpoint"`
	Introspection string `json:"introspection_endpoint"`
	JWKS          string `json:"jwks_uri"`
}

// loader is one run's shared, read-only state.
type loader struct {
	o            loadOptions
	transport    *http.Transport
	discoveryURL string
	ep           endpoints
	basicAuth    string
	firstMember  int
	sharedJar    http.CookieJar // token scenarios: a logged-in browser

	// leanAddr and leanHost are where the lean path (loadtest_wire.go)
	// connects and the Host it names; empty when net/http carries all.
	leanAddr, leanHost string
	// The requests of the one-request scenarios and the token endpoint.
	discovery, jwks, userinfo, introspect, token *call
}

func (l *loader) memberNumber(worker int) string {
	n := l.firstMember + worker%max(l.o.members, 1)
	return fmt.Sprintf("%0*d", len(l.o.member), n)
}

func (g *globals) loadtest(ctx context.Context, o loadOptions, membersSet bool) error {
	if o.scenario == "" && !o.setup {
		return usageError{errors.New("loadtest: --scenario is required (or --setup): " + strings.Join(scenarioNames(), ", "))}
	}
	sc, ok := scenarios[o.scenario]
	if o.scenario != "" && !ok {
		return usageError{fmt.Errorf("loadtest: unknown scenario %q; one of %s", o.scenario, strings.Join(scenarioNames(), ", "))}
	}
	if o.concurrency < 1 || o.duration <= 0 {
		return usageError{errors.New("loadtest: --concurrency must be at least 1 and --duration positive")}
	}
	var cfg *config.Config
	loadCfg := func() (config.Config, error) {
		if cfg == nil {
			c, err := g.loadConfig()
			if err != nil {
				return c, err
			}
			cfg = &c
		}
		return *cfg, nil
	}
	if o.issuer == "" {
		c, err := loadCfg()
		if err != nil {
			return err
		}
		o.issuer = c.Issuer
	}
	o.issuer = strings.TrimSuffix(o.issuer, "/")
	if o.redirectURI == "" {
		o.redirectURI = o.issuer + "/loadtest/cb"
	}
	if o.setup {
		if !membersSet {
			o.members = 50
		}
		if o.password == "" {
			o.password = defaultLoadPassword
		}
		c, err := loadCfg()
		if err != nil {
			return err
		}
		res, err := g.loadtestSetup(ctx, c, &o)
		if err != nil {
			return err
		}
		if o.scenario == "" {
			return printSetup(g, o, res)
		}
	}
	if err := checkNeeds(o, sc.needs); err != nil {
		return err
	}
	l, err := newLoader(ctx, o)
	if err != nil {
		return err
	}
	defer l.transport.CloseIdleConnections()
	var hash *hashMeter
	if o.scenario == "login" {
		c, err := loadCfg()
		if err != nil {
			return fmt.Errorf("loadtest: the login scenario measures the password hash with the config's parameters: %w", err)
		}
		hash = startHashMeter(c)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The load's own heap is small and short-lived: collect it less often,
	// leaving the CPU to the server when both share a machine.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	rep, err := l.run(ctx, sc)
	if err != nil {
		return err
	}
	if hash != nil {
		rep.Hash = hash.finish(rep.IterationsPerSecond)
	}
	if o.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(g.stdout, rep)
	return nil
}

func checkNeeds(o loadOptions, n needs) error {
	var missing []string
	if n >= needsClient {
		if o.clientID == "" {
			missing = append(missing, "--client")
		}
		if o.clientSecret == "" {
			missing = append(missing, "--client-secret")
		}
	}
	if n >= needsMember {
		if o.member == "" {
			missing = append(missing, "--member")
		}
		if o.password == "" {
			missing = append(missing, "--password")
		}
	}
	if len(missing) > 0 {
		return usageError{fmt.Errorf("loadtest: scenario %s needs %s (run with --setup to create them)", o.scenario, strings.Join(missing, ", "))}
	}
	if o.member != "" {
		if _, err := strconv.Atoi(o.member); err != nil || (len(o.member) != 7 && len(o.member) != 9) {
			return usageError{fmt.Errorf("loadtest: --member %q is not a member number (7 or 9 digits)", o.member)}
		}
	}
	return nil
}

// newLoader builds the HTTP transport (keep-alive, a pooled connection per
// worker) and reads the server's endpoints from discovery.
func newLoader(ctx context.Context, o loadOptions) (*loader, error) {
	u, err := url.Parse(o.issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Errorf("loadtest: --issuer %q is not an http(s) URL", o.issuer)}
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	dial := dialer.DialContext
	if o.sourceAddrs > 0 {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, usageError{errors.New("loadtest: --source-addrs needs a loopback issuer")}
		}
		var next atomic.Uint32
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			k := next.Add(1) % uint32(o.sourceAddrs)
			d := *dialer
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, byte(k>>16), byte(k>>8), byte(k)+1)}
			return d.DialContext(ctx, "tcp4", addr)
		}
	}
	l := &loader{
		o: o,
		transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dial,
			MaxIdleConns:        2 * o.concurrency,
			MaxIdleConnsPerHost: o.concurrency,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			DisableCompression:  true,
		},
		discoveryURL: o.issuer + "/.well-known/openid-configuration",
		basicAuth:    "Basic " + basic(o.clientID, o.clientSecret),
	}
	if o.member != "" {
		l.firstMember, _ = strconv.Atoi(o.member)
	}
	w := newWorker(l, 0)
	body, err := w.getOK(ctx, "discovery", l.discoveryURL, "")
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", l.discoveryURL, err)
	}
	if err := json.Unmarshal(body, &l.ep); err != nil || l.ep.Token == "" || l.ep.Issuer == "" {
		return nil, fmt.Errorf("loadtest: %s is not an OpenID discovery document", l.discoveryURL)
	}
	l.leanAddr, l.leanHost = leanTarget(u, l.transport.Proxy)
	l.discovery = l.newCall(http.MethodGet, l.discoveryURL)
	l.jwks = l.newCall(http.MethodGet, l.ep.JWKS)
	l.userinfo = l.newCall(http.MethodGet, l.ep.Userinfo)
	l.introspect = l.newCall(http.MethodPost, l.ep.Introspection)
	l.token = l.newCall(http.MethodPost, l.ep.Token)
	return l, nil
}

// basic is the HTTP basic credentials of a client (RFC 6749 §2.3.1:
// form-encoded first).
func basic(id, secret string) string {
	return b64(url.QueryEscape(id) + ":" + url.QueryEscape(secret))
}
