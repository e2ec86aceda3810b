package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultReplicas is how many replicas StartCluster starts unless told.
const DefaultReplicas = 3

// revocationDelayEnv sets storage.postgres.revocation_delay (the base
// config opens the storage section, so a suite sets it this way).
const revocationDelayEnv = "TSUBASA_STORAGE_POSTGRES_REVOCATION_DELAY="

// defaultRevocationDelay is storage.postgres.revocation_delay's default
// (config/defaults.go).
const defaultRevocationDelay = time.Second

// Cluster is several replicas of `tsubasa serve` on one PostgreSQL
// database, all with the same config but their own port (the same issuer,
// secret_file and clients), behind a Proxy that sends each request to the
// next replica in turn and is their one trusted proxy. It is the
// deployment of README's "Several replicas on PostgreSQL", on loopback.
type Cluster struct {
	// Server is the cluster as the suites see one server, so that every
	// helper taking a *Server works on it: Issuer and Base are the proxy's
	// URL, CLI runs with the first replica's config (on PostgreSQL the CLI
	// opens the database itself, as it would on an operator's machine),
	// Output is every replica's log, Stop stops them all, Settle waits for
	// what one replica wrote to reach the others.
	*Server
	// Replicas are the processes; Base is where each listens, for tests
	// that must reach one replica in particular.
	Replicas []*Server
	Proxy    *Proxy
	// Database is the PostgreSQL URL the replicas share.
	Database string
	// RevocationDelay is storage.postgres.revocation_delay: how stale a
	// replica's caches of revocations, members and clients may be.
	RevocationDelay time.Duration

	env []string // each replica's environment beyond the test's own
}

// StartCluster starts n replicas (DefaultReplicas when n < 1) with o's
// config on o.Postgres (a new database from PostgresURL when empty) behind
// a new Proxy on o.Port (a free one when 0), and stops them when the test
// ends. The replicas list ProxyAddr in trusted_proxies, so o must not
// configure trusted_proxies itself. o.MetricsPort is the first replica's;
// the others get free ones.
func StartCluster(t *testing.T, o Options, n int) *Cluster {
	t.Helper()
	if n < 1 {
		n = DefaultReplicas
	}
	if strings.Contains(o.Extra, "trusted_proxies:") || envSets(o.Env, "TSUBASA_TRUSTED_PROXIES=") {
		t.Fatal("harness: a cluster's replicas trust their proxy; the options may not set trusted_proxies")
	}
	if o.Postgres == "" {
		o.Postgres = PostgresURL(t)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c := &Cluster{Proxy: listenProxy(t, o.Host, o.Port), Database: o.Postgres, RevocationDelay: defaultRevocationDelay,
		env: append(slices.Clone(o.Env), "TSUBASA_TRUSTED_PROXIES="+ProxyAddr)}
	if d, ok := envValue(o.Env, revocationDelayEnv); ok {
		var err error
		if c.RevocationDelay, err = time.ParseDuration(d); err != nil {
			t.Fatalf("harness: %s%s: %v", revocationDelayEnv, d, err)
		}
	}
	var bases []string
	for i := range n {
		ro := o
		ro.Dir, ro.Port, ro.issuer = filepath.Join(o.Dir, fmt.Sprintf("replica-%d", i)), 0, c.Proxy.URL
		if i > 0 {
			ro.MetricsPort = 0
		}
		if err := os.MkdirAll(ro.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		r := Configure(t, ro)
		c.Replicas = append(c.Replicas, r)
		bases = append(bases, r.Base)
	}
	// All at once: one migrates the schema and makes the first keys under
	// a lease while the others wait for it, as in a rollout.
	for _, r := range c.Replicas {
		r.launch(t, c.env)
	}
	for _, r := range c.Replicas {
		r.waitReady(t)
	}
	c.Proxy.serve(t, bases)
	done := make(chan struct{})
	close(done)
	c.Server = &Server{Issuer: c.Proxy.URL, Base: c.Proxy.URL, Dir: o.Dir, Config: c.Replicas[0].Config,
		Metrics: c.Replicas[0].Metrics, out: &syncBuffer{}, done: done, cluster: c}
	return c
}

func envValue(env []string, prefix string) (string, bool) {
	for _, kv := range slices.Backward(env) { // the last one wins, as in exec
		if v, ok := strings.CutPrefix(kv, prefix); ok {
			return v, true
		}
	}
	return "", false
}

func envSets(env []string, prefix string) bool {
	_, ok := envValue(env, prefix)
	return ok
}

// Kill ends replica i with SIGKILL (no shutdown, no final commit) and
// waits until the process is gone; the proxy finds out at its next
// request there.
func (c *Cluster) Kill(t *testing.T, i int) {
	t.Helper()
	r := c.Replicas[i]
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %d still running 30s after SIGKILL", i)
	}
}

// Restart starts replica i again on its config (after Kill or Stop) and
// waits until it is ready; the proxy takes it back within a second.
func (c *Cluster) Restart(t *testing.T, i int) {
	t.Helper()
	r := c.Replicas[i]
	select {
	case <-r.done:
	default:
		t.Fatalf("replica %d is still running", i)
	}
	r.launch(t, c.env)
	r.waitReady(t)
}

// stopAll sends every replica SIGTERM at once, then waits for each.
func (c *Cluster) stopAll(t *testing.T) {
	for _, r := range c.Replicas {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, r := range c.Replicas {
		r.Stop(t)
	}
}

// output is every replica's log, each under a line naming it.
func (c *Cluster) output() string {
	var b strings.Builder
	for i, r := range c.Replicas {
		fmt.Fprintf(&b, "--- replica %d (%s) ---\n%s", i, r.Base, r.out.String())
	}
	return b.String()
}

// TryCLI runs a tsubasa subcommand with s's config, as CLI does, but
// returns its combined output and exit code (-1 when it could not run or
// ran out of time) instead of failing the test: for goroutines that run
// commands while servers may die under them.
func (s *Server) TryCLI(ctx context.Context, args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append(args, "--config", s.Config)...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return string(out), ee.ExitCode()
	default:
		return fmt.Sprintf("%s\n%v", out, err), -1
	}
}

// Exited reports whether the process has ended (a crash, a kill, a
// stop), for tests that check a fault did not take a replica down.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Processes is how many server processes s is: 1, or its cluster's
// replicas.
func (s *Server) Processes() int {
	if s.cluster != nil {
		return len(s.cluster.Replicas)
	}
	return 1
}

// MetricsURLs are the management listeners of every process of s (each
// replica counts its own).
func (s *Server) MetricsURLs() []string {
	if s.cluster == nil {
		return []string{s.Metrics}
	}
	var out []string
	for _, r := range s.cluster.Replicas {
		out = append(out, r.Metrics)
	}
	return out
}

// Settle waits until what one process of s wrote is enforced by every
// other: on a cluster, storage.postgres.revocation_delay, the bound within
// which a replica's caches of revocations, members and clients follow the
// database (so a check after Settle holds on whichever replica answers);
// on one server nothing, since a write there holds at once. Call it after
// a revoking act and before checking that what it revoked is refused: on
// one server the check then still proves the change holds on the very
// next request.
func (s *Server) Settle() {
	if s.cluster != nil {
		time.Sleep(s.cluster.RevocationDelay)
	}
}
