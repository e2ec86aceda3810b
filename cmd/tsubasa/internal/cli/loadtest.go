package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/cmd/tsubasa/internal/loadtest"
	"tsubasa/config"
)

// loadFlags are the loadtest command's flags beyond the run's options:
// --setup creates what the run needs, through the admin API.
type loadFlags struct {
	setup      bool
	alg        string
	membersSet bool
}

func newLoadtestCmd(g *globals) *cobra.Command {
	var o loadtest.Options
	var lf loadFlags
	cmd := &cobra.Command{
		Use:   "loadtest --issuer URL --scenario NAME [flags]",
		Short: "Drive a running server with load and report throughput and latency",
		Long: `Drive a running Tsubasa with concurrent clients for a while and report
iterations and requests per second, latency percentiles and errors per HTTP
status. Scenarios:

` + loadtest.ScenarioHelp() + `
--setup creates a confidential client and --members members through the
running server's admin socket (found through --config) and prints the flags
to use; with --scenario it then runs the load with them. With --client-auth
private_key_jwt the client authenticates with a key instead of a secret:
--setup makes a P-256 key, writes its private half to --client-key and
registers the public half. The members'
password is fixed and printed, so --setup runs only with a config that sets
loadtest.allow_setup: true. The login scenario
also reports the password-hash ceiling: argon2id time per hash (the
config's parameters, measured here) times the cores. --pid names the server
process whose resident memory to watch. --target (repeatable) sends the
issuer's connections to several replicas round-robin, as a load balancer
without stickiness does, while every URL still names the issuer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lf.membersSet = cmd.Flags().Changed("members")
			return asUsage(g.loadtest(cmd.Context(), o, lf))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Issuer, "issuer", "", "issuer URL of the server (default: the config's issuer)")
	f.StringArrayVar(&o.Targets, "target", nil,
		"a replica's URL (scheme://host:port), repeatable: connections for the issuer go to the targets round-robin, the requests still name the issuer (as behind a load balancer)")
	f.StringVar(&o.Scenario, "scenario", "", "scenario: "+strings.Join(loadtest.Scenarios(), ", "))
	f.IntVar(&o.Concurrency, "concurrency", 16, "concurrent workers (simulated clients)")
	f.Float64Var(&o.Rate, "rate", 0,
		"offer this many iterations per second in all, on a schedule (open loop; latency counts from when each was due); 0 runs each worker as fast as its answers come")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to run")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	f.StringVar(&o.ClientID, "client", "", "client id")
	f.StringVar(&o.ClientSecret, "client-secret", "", "client secret")
	f.StringVar(&o.ClientAuth, "client-auth", loadtest.ClientAuthBasic,
		"how the client authenticates: client_secret_basic, or private_key_jwt (a fresh assertion per request, signed with --client-key)")
	f.StringVar(&o.ClientKey, "client-key", "",
		"with --client-auth private_key_jwt: file of the client's private key (a JWK); --setup writes it")
	f.BoolVar(&o.DPoP, "dpop", false,
		"send a DPoP proof (RFC 9449) with every token request; userinfo then uses the worker's DPoP-bound token with a proof")
	f.IntVar(&o.Presign, "presign", 0,
		"sign this many client assertions and DPoP proofs (each its own jti) before the run, so the load's signing does not take the server's CPU; 0 signs each in its request")
	f.StringVar(&o.RedirectURI, "redirect-uri", "", "redirect URI of the client (default: <issuer>/loadtest/cb)")
	f.StringVar(&o.Member, "member", "", "member number (the first of --members consecutive numbers)")
	f.IntVar(&o.Members, "members", 1, "members to log in as, numbered from --member; with --setup, members to create (default 50)")
	f.StringVar(&o.Password, "password", "", "the members' password (with --setup: default "+defaultLoadPassword+")")
	f.IntVar(&o.Batch, "batch", loadtest.DefaultImportBatch, "admin-import: rows per import body")
	f.StringVar(&o.Scopes, "scope", "openid profile email membership offline_access", "scopes to ask for")
	f.IntVar(&o.PID, "pid", 0, "server process id: report its peak resident memory (Linux)")
	f.StringVar(&o.ClockFile, "clock-file", "",
		"append a line \"start\" to this file when the measured run begins (after the workers' preparation: logins, tokens) and \"stop\" when it ends, for a script reading other processes' CPU over the run alone")
	f.IntVar(&o.SourceAddrs, "source-addrs", 0,
		"spread connections over this many loopback source addresses 127.0.0.1… (loopback issuers only), as if from many clients")
	f.BoolVar(&o.HonorRetryAfter, "honor-retry-after", true, "after a 429 or 503, wait as Retry-After says (at most the rest of the run)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object instead of a table")
	f.BoolVar(&lf.setup, "setup", false, "create the load-test client and members through the admin socket")
	f.StringVar(&lf.alg, "alg", "ES256", "with --setup: ID token algorithm of the client, RS256 or ES256 (the client id ends in it)")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of this command (not the server) to the file")
	return cmd
}

// errSetupNotAllowed refuses --setup against a config not marked for load
// testing: the members it creates have a fixed, published password.
var errSetupNotAllowed = errors.New("loadtest --setup refused: it creates members whose password is fixed and printed, " +
	"so it runs only with a config marked for load testing; set loadtest.allow_setup: true " +
	"(or TSUBASA_LOADTEST_ALLOW_SETUP=true) on a server for load tests, never on one that real members use")

// asUsage makes the load generator's usage errors the CLI's (exit code 2).
func asUsage(err error) error {
	var ue loadtest.UsageError
	if errors.As(err, &ue) {
		return usageError{err}
	}
	return err
}

func (g *globals) loadtest(ctx context.Context, o loadtest.Options, lf loadFlags) error {
	if o.Scenario == "" && !lf.setup {
		return usageError{errors.New("loadtest: --scenario is required (or --setup): " + strings.Join(loadtest.Scenarios(), ", "))}
	}
	if err := loadtest.Validate(o); err != nil {
		return err
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
	if o.Issuer == "" {
		c, err := loadCfg()
		if err != nil {
			return err
		}
		o.Issuer = c.Issuer
	}
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	if o.RedirectURI == "" {
		o.RedirectURI = o.Issuer + "/loadtest/cb"
	}
	if lf.setup {
		if !lf.membersSet {
			o.Members = 50
		}
		if o.Password == "" {
			o.Password = defaultLoadPassword
		}
		c, err := loadCfg()
		if err != nil {
			return err
		}
		if !c.Loadtest.AllowSetup {
			return errSetupNotAllowed
		}
		res, err := g.loadtestSetup(ctx, c, &o, lf.alg)
		if err != nil {
			return err
		}
		if o.Scenario == "" {
			return printSetup(g, o, res)
		}
	}
	if o.Scenario == "login" {
		c, err := loadCfg()
		if err != nil {
			return fmt.Errorf("loadtest: the login scenario measures the password hash with the config's parameters: %w", err)
		}
		o.Hash = hashSpec(c)
	}
	return loadtest.Run(ctx, o, g.stdout)
}

// hashSpec is the server's password hash as cfg sets it, for the login
// scenario's hash ceiling.
func hashSpec(cfg config.Config) *loadtest.HashSpec {
	a := cfg.Password.Argon2
	gc, limit := app.RuntimeSettings(cfg)
	return &loadtest.HashSpec{
		MemoryKiB: a.MemoryKiB, Iterations: a.Iterations, Parallelism: a.Parallelism,
		MaxConcurrent: cfg.Password.MaxConcurrentHashes, GCPercent: gc, MemoryLimit: limit,
		New: func(n int) func(ctx context.Context, password string) error {
			return app.PasswordHash(cfg, n)
		},
	}
}
