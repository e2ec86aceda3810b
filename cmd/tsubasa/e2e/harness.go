package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tsubasa/storage/postgres/pgtest"
)

// binary is the tsubasa executable built once for the whole suite.
var binary string

// Main builds the binary once for a test package's suites, runs them and
// exits; each package using this harness calls it from its TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "tsubasa-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tsubasa")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "tsubasa/cmd/tsubasa")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tsubasa:", err)
		os.Exit(1)
	}
	code := pgtest.Run(m) // stops the PostgreSQL cluster a test started
	os.RemoveAll(dir)
	os.Exit(code)
}

// Server is a running tsubasa process, or a cluster of them behind one
// proxy as the suites see it (StartCluster: Issuer is the proxy's).
type Server struct {
	Issuer string
	Dir    string
	Config string
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}

	// Metrics is the base URL of the management listener (metrics.listen);
	// of the first replica for a cluster (MetricsURLs lists them all).
	Metrics string

	// Base is where the process listens: the issuer's origin, except for
	// a replica of a Cluster, whose issuer is the proxy's.
	Base string

	cluster *Cluster // set on the Server a Cluster shows the suites
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreePort returns a port on 127.0.0.1 that nothing listens on, for a
// server the test starts next. It is chosen below the kernel's ephemeral
// range (ip_local_port_range): a port from that range, as Listen on :0
// gives, can be taken by any outgoing connection of the tests running in
// parallel between the check here and the server's bind ("address already
// in use"), while a port below it is only ever taken by a listener.
//
// A port is handed out once per test process: a port given for one
// server's listener and not yet bound looks free to the check, and the
// replicas' tests start several servers, each with two listeners (a
// replica once failed to start because its listener was given the port
// handed to another's management listener a moment before).
func FreePort(t *testing.T) int {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		if low <= 11000 {
			break
		}
		p := 10000 + rand.IntN(low-10000)
		if !handOut(p) {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			return p
		}
	}
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if handOut(p) {
			return p
		}
	}
	t.Fatal("no free port on 127.0.0.1 that this process has not handed out")
	return 0
}

var (
	handedMu sync.Mutex
	handed   = map[int]bool{}
)

// handOut records port p as handed out, and reports whether it was not
// already.
func handOut(p int) bool {
	handedMu.Lock()
	defer handedMu.Unlock()
	if handed[p] {
		return false
	}
	handed[p] = true
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range, or 0
// where it cannot be read (not Linux).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil {
		return 0
	}
	return low
}

// Options shape the server's config.
type Options struct {
	Host  string // "127.0.0.1" (default) or "localhost" for browser tests
	Extra string // YAML appended to the base config
	Dir   string // reuse a data directory (restart tests)
	Port  int    // reuse a port (restart tests)
	// PINUntil is legacy_pin.web_login_until (default far in the future).
	PINUntil string
	// SMTPPort is mail.smtp.port on 127.0.0.1 (default 9, where nothing
	// listens: mail is queued and retried, never delivered).
	SMTPPort int
	// SMSURL is sms.webhook.url (default a port where nothing listens).
	SMSURL string
	// Env adds environment variables, e.g. TSUBASA_SMS_MAX_PER_HOUR=5 for
	// a key in a section the base config already opens.
	Env []string
	// MetricsPort is metrics.listen's port on 127.0.0.1 (default a free
	// one: servers of parallel tests cannot share 9090).
	MetricsPort int
	// Postgres is a database URL (PostgresURL makes one): the server
	// stores there instead of a bbolt file, with sslmode disable and
	// secret_file set (every server of a test on one database shares the
	// secret, as replicas must).
	Postgres string
	// SecretFile is secret_file (default on PostgreSQL: a file in Dir
	// holding PostgresSecret; on bbolt: none, the secret is generated).
	SecretFile string

	issuer string // a replica's issuer: its cluster's proxy (cluster.go)
}

// PostgresSecret is the master secret of PostgreSQL servers unless
// Options.SecretFile names another.
const PostgresSecret = "e2e-master-secret-that-every-replica-shares-0123456789"

// PostgresURL returns a new, empty database of the suite's throwaway
// PostgreSQL cluster, dropped when t ends. Without PostgreSQL it skips t
// (fails it under TSUBASA_REQUIRE_POSTGRES=1).
func PostgresURL(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t, "")
}

// WebSecret is the secret of the base config's first-party client "web".
const WebSecret = "web-secret-0123456789"

// baseConfig is a production-like config: no dev mode, cheap argon2 for
// speed, clients for the suites.
const baseConfig = `issuer: %[1]s
listen: %[2]s
storage:
  bolt:
    path: %[3]s/tsubasa.db
log:
  level: debug
password:
  argon2:
    memory_kib: 8192
    iterations: 1
mail:
  from: "Tsubasa <no-reply@tsubasa.test>"
  smtp:
    host: 127.0.0.1
    port: %[5]d
    tls: none
sms:
  driver: webhook
  webhook:
    url: http://127.0.0.1:9/unused
legacy_pin:
  web_login_until: "%[4]s"
metrics:
  listen: 127.0.0.1:%[6]d
clients:
  - id: web
    secret: web-secret-0123456789
    name: Member website
    redirect_uris: [%[1]s/rp/callback]
    post_logout_redirect_uris: [%[1]s/rp/bye]
  - id: web-es256
    secret: es-secret-0123456789
    name: ES256 website
    redirect_uris: [%[1]s/rp/callback]
    id_token_signed_response_alg: ES256
  - id: spa
    public: true
    name: Mobile app
    redirect_uris: [%[1]s/rp/callback]
  - id: backend
    secret: backend-secret-0123456789
    name: Partner backend
    grant_types: [client_credentials]
    scopes: [telephone]
  - id: admin-ops
    secret: admin-ops-secret-0123456789
    name: Back office
    grant_types: [client_credentials]
    scopes: [admin:members:read, admin:members:write, admin:members:support, admin:clients, admin:keys, admin:events:read, admin:webhooks]
`

// Start runs a server and stops it when the test ends.
func Start(t *testing.T, o Options) *Server {
	t.Helper()
	s := Configure(t, o)
	s.launch(t, o.Env)
	s.waitReady(t)
	return s
}

// Configure writes the server's config (and on PostgreSQL its secret
// file) without starting it: its CLI works, and Start or ServeFails with
// the same Dir and Port serve it.
func Configure(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Port == 0 {
		o.Port = FreePort(t)
	}
	if o.PINUntil == "" {
		o.PINUntil = "2099-12-31"
	}
	addr := fmt.Sprintf("%s:%d", o.Host, o.Port)
	issuer := "http://" + addr
	if o.issuer != "" {
		issuer = o.issuer
	}
	listen := fmt.Sprintf("127.0.0.1:%d", o.Port)
	if o.SMTPPort == 0 {
		o.SMTPPort = 9
	}
	if o.MetricsPort == 0 {
		o.MetricsPort = FreePort(t)
	}
	cfg := fmt.Sprintf(baseConfig, issuer, listen, o.Dir, o.PINUntil, o.SMTPPort, o.MetricsPort) + o.Extra
	cfg = storageConfig(t, cfg, o)
	if o.SMSURL != "" {
		cfg = strings.Replace(cfg, "http://127.0.0.1:9/unused", o.SMSURL, 1)
	}
	if !strings.Contains(o.Extra, "otp:") {
		// One-time passwords at login (default new_device: every first
		// login of a suite) only where a suite configures them.
		cfg += "otp:\n  on_login: never\n"
	}
	path := filepath.Join(o.Dir, "tsubasa.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	close(done) // not running
	return &Server{Issuer: issuer, Base: "http://" + listen, Dir: o.Dir, Config: path, out: &syncBuffer{}, done: done,
		Metrics: fmt.Sprintf("http://127.0.0.1:%d", o.MetricsPort)}
}

// launch starts `tsubasa serve` on the written config, stopped when the
// test ends.
func (s *Server) launch(t *testing.T, env []string) {
	t.Helper()
	s.done = make(chan struct{})
	s.cmd = exec.Command(binary, "serve", "--config", s.Config)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.Env = append(cleanEnv(), env...)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("server output:\n%s", s.out.String())
		}
	})
}

// cleanEnv keeps TSUBASA_* variables of the developer's shell from leaking
// into the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TSUBASA_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *Server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("server exited during start-up:\n%s", s.out.String())
		default:
		}
		resp, err := http.Get(s.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server not ready in time:\n%s", s.out.String())
}

// Stop ends the server gracefully (SIGTERM) and waits for it; on a
// cluster, every replica.
func (s *Server) Stop(t *testing.T) {
	if s.cluster != nil {
		s.cluster.stopAll(t)
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("server did not stop within 20s of SIGTERM")
	}
}

// CLI runs a tsubasa subcommand against this server's config and returns
// its combined output; it fails the test on a non-zero exit unless wantErr.
func (s *Server) CLI(t *testing.T, wantErr bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append(args, "--config", s.Config)...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if (err != nil) != wantErr {
		t.Fatalf("tsubasa %s: err=%v, want error %v\n%s", strings.Join(args, " "), err, wantErr, out)
	}
	return string(out)
}
