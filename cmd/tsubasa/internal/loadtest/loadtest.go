package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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
)

// Options are a run's settings: the loadtest command's flags.
type Options struct {
	Issuer string // the server's issuer URL
	// Targets are the replicas' URLs (scheme://host:port) to send the
	// issuer's requests to, round-robin over new connections (targets.go);
	// none sends them to the issuer.
	Targets     []string
	Scenario    string // one of Scenarios
	Concurrency int    // workers (simulated clients)
	// Rate, when positive, offers that many iterations per second in all
	// (open loop: on a schedule, whether or not earlier ones finished),
	// instead of each worker starting its next as its last ends. An
	// iteration's latency then counts from the moment it was due, so time
	// spent waiting for a free worker counts too (schedule.go).
	Rate         float64
	Duration     time.Duration
	Timeout      time.Duration // of one HTTP request
	ClientID     string
	ClientSecret string
	// ClientAuth is how the client authenticates: ClientAuthBasic (the
	// default) or ClientAuthPrivateKeyJWT with the private JWK in the file
	// ClientKey (clientauth.go).
	ClientAuth string
	ClientKey  string
	// DPoP sends a DPoP proof (RFC 9449) with every token request and,
	// for userinfo, the worker's DPoP-bound token with a proof. Presign is
	// how many client assertions and proofs are signed before the run
	// (presign.go); 0 signs each inside its request.
	DPoP        bool
	Presign     int
	RedirectURI string // default <issuer>/loadtest/cb
	Member      string // first member number
	Members     int    // members numbered from Member on, spread over workers
	Password    string // the members' password
	Scopes      string // scopes to ask for, space-separated
	Batch       int    // admin-import: rows per body [DefaultImportBatch]
	PID         int    // server process to watch (Linux)
	// ClockFile, when set, gets a line "start" when the measured run
	// begins (after the workers' preparation) and "stop" when it ends, so
	// that a script can read other processes' CPU over the run alone.
	ClockFile   string
	SourceAddrs int // loopback source addresses to spread connections over
	// HonorRetryAfter makes a worker wait as Retry-After says after a 429
	// or 503 (at most the rest of the run).
	HonorRetryAfter bool
	JSON            bool   // print one JSON object instead of a table
	CPUProfile      string // write a CPU profile of this command to the file
	// Hash is the server's password hash, which the login scenario times
	// for the hash ceiling; required for it.
	Hash *HashSpec
}

// UsageError is a run refused for its options (the command's exit code 2).
type UsageError struct{ error }

func (e UsageError) Unwrap() error { return e.error }

func usage(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// ScenarioHelp describes every scenario, a line each.
func ScenarioHelp() string {
	var b strings.Builder
	for _, n := range Scenarios() {
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
	o            Options
	transport    *http.Transport
	discoveryURL string
	ep           endpoints
	auth         *clientAuth
	dpop         *dpopSigner // with --dpop
	proofs       *pool       // the token requests' proofs, with --dpop
	firstMember  int
	targets      *targets       // with --target
	sharedJar    http.CookieJar // token scenarios: a logged-in browser
	imp          *importRun     // admin-import

	// leanAddr and leanHost are where the lean path (wire.go)
	// connects and the Host it names; empty when net/http carries all.
	leanAddr, leanHost string
	// The requests of the one-request scenarios and the token endpoint.
	discovery, jwks, userinfo, introspect, token *call
}

func (l *loader) memberNumber(worker int) string {
	n := l.firstMember + worker%max(l.o.Members, 1)
	return fmt.Sprintf("%0*d", len(l.o.Member), n)
}

// Validate checks the options a run needs whatever its scenario: a known
// scenario (when one is named), workers and a duration.
func Validate(o Options) error {
	if _, ok := scenarios[o.Scenario]; o.Scenario != "" && !ok {
		return usage("loadtest: unknown scenario %q; one of %s", o.Scenario, strings.Join(Scenarios(), ", "))
	}
	if o.Concurrency < 1 || o.Duration <= 0 {
		return usage("loadtest: --concurrency must be at least 1 and --duration positive")
	}
	if o.Rate < 0 || o.Rate > 1_000_000 || math.IsNaN(o.Rate) {
		return usage("loadtest: --rate must be from 0 (as fast as the workers go) to 1000000 iterations per second")
	}
	switch o.ClientAuth {
	case "", ClientAuthBasic, ClientAuthPrivateKeyJWT:
	default:
		return usage("loadtest: --client-auth %q: %s or %s", o.ClientAuth, ClientAuthBasic, ClientAuthPrivateKeyJWT)
	}
	if o.Presign < 0 || o.Presign > 10_000_000 {
		return usage("loadtest: --presign must be from 0 to 10000000")
	}
	return nil
}

// Run drives the server at o.Issuer with o.Scenario for o.Duration and
// prints the report to stdout.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	if o.Scenario == "" {
		return usage("loadtest: --scenario is required: %s", strings.Join(Scenarios(), ", "))
	}
	if err := Validate(o); err != nil {
		return err
	}
	sc := scenarios[o.Scenario]
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	if o.RedirectURI == "" {
		o.RedirectURI = o.Issuer + "/loadtest/cb"
	}
	if err := checkNeeds(o, sc.needs); err != nil {
		return err
	}
	if o.Scenario == "login" && o.Hash == nil {
		return errors.New("loadtest: the login scenario measures the password hash, and none was given")
	}
	l, err := newLoader(ctx, o)
	if err != nil {
		return err
	}
	defer l.transport.CloseIdleConnections()
	// The load's own heap is small and short-lived: collect it less often,
	// leaving the CPU to the server when both share a machine.
	gc, limit := 400, int64(-1)
	if o.Hash != nil && o.Hash.GCPercent != 0 {
		// The hashes are timed under the server's own collector settings:
		// each allocates its working memory afresh, and what that costs
		// depends on them.
		gc, limit = o.Hash.GCPercent, o.Hash.MemoryLimit
	}
	defer debug.SetGCPercent(debug.SetGCPercent(gc))
	if limit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	}
	var hash *hashMeter
	if o.Scenario == "login" {
		hash = startHashMeter(*o.Hash)
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := l.run(ctx, sc)
	if err != nil {
		return err
	}
	if hash != nil {
		rep.Hash = hash.finish(rep.IterationsPerSecond)
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stdout, rep)
	return nil
}

// CheckMember checks a member number given as --member.
func CheckMember(number string) error {
	if _, err := strconv.Atoi(number); err != nil || (len(number) != 7 && len(number) != 9) {
		return usage("loadtest: --member %q is not a member number (7 or 9 digits)", number)
	}
	return nil
}

// MemberNumber is the i-th member number from first on, as wide as first.
func MemberNumber(first string, i int) string {
	n, _ := strconv.Atoi(first)
	return fmt.Sprintf("%0*d", len(first), n+i)
}

func checkNeeds(o Options, n needs) error {
	var missing []string
	if n >= needsClient {
		if o.ClientID == "" {
			missing = append(missing, "--client")
		}
		switch {
		case o.ClientAuth == ClientAuthPrivateKeyJWT && o.ClientKey == "":
			missing = append(missing, "--client-key")
		case o.ClientAuth != ClientAuthPrivateKeyJWT && o.ClientSecret == "":
			missing = append(missing, "--client-secret")
		}
	}
	if n >= needsMember {
		if o.Member == "" {
			missing = append(missing, "--member")
		}
		if o.Password == "" {
			missing = append(missing, "--password")
		}
	}
	if len(missing) > 0 {
		return usage("loadtest: scenario %s needs %s (run with --setup to create them)", o.Scenario, strings.Join(missing, ", "))
	}
	if o.Member != "" {
		return CheckMember(o.Member)
	}
	return nil
}

// newLoader builds the HTTP transport (keep-alive, a pooled connection per
// worker) and reads the server's endpoints from discovery.
func newLoader(ctx context.Context, o Options) (*loader, error) {
	u, err := url.Parse(o.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usage("loadtest: --issuer %q is not an http(s) URL", o.Issuer)
	}
	tg, err := newTargets(u, o.Targets)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	dial := dialer.DialContext
	if o.SourceAddrs > 0 {
		if ip := net.ParseIP(u.Hostname()); tg != nil && !tg.loopback() {
			return nil, usage("loadtest: --source-addrs needs loopback targets")
		} else if tg == nil && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, usage("loadtest: --source-addrs needs a loopback issuer")
		}
		var next atomic.Uint32
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			k := next.Add(1) % uint32(o.SourceAddrs)
			d := *dialer
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, byte(k>>16), byte(k>>8), byte(k)+1)}
			return d.DialContext(ctx, "tcp4", addr)
		}
	}
	proxy := http.ProxyFromEnvironment
	if tg != nil {
		proxy = nil // the targets are where to connect, not a proxy's choice
	}
	l := &loader{
		o:       o,
		targets: tg,
		transport: &http.Transport{
			Proxy:               proxy,
			DialContext:         tg.wrap(dial),
			MaxIdleConns:        2 * o.Concurrency,
			MaxIdleConnsPerHost: o.Concurrency,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			DisableCompression:  true,
		},
		discoveryURL: o.Issuer + "/.well-known/openid-configuration",
	}
	if o.Member != "" {
		l.firstMember, _ = strconv.Atoi(o.Member)
	}
	w := newWorker(l, 0)
	body, err := w.getOK(ctx, "discovery", l.discoveryURL, "")
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", l.discoveryURL, err)
	}
	if err := json.Unmarshal(body, &l.ep); err != nil || l.ep.Token == "" || l.ep.Issuer == "" {
		return nil, fmt.Errorf("loadtest: %s is not an OpenID discovery document", l.discoveryURL)
	}
	if l.auth, err = newClientAuth(o, l.ep.Issuer); err != nil {
		return nil, err
	}
	if err := l.presign(); err != nil {
		return nil, err
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
