package app

import (
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"tsubasa/config"
)

// TestServeProfiled is a tool, not a test: it runs the real server in this
// process and writes a CPU profile of it while `tsubasa loadtest` drives it
// from outside, so that what dominates a scenario can be read with
// `go tool pprof`. It is skipped unless LOADTEST_PROFILE_CONFIG names a
// config file. The server answers at the config's listen address. Profiling starts after
// LOADTEST_PROFILE_DELAY (default 5s: time to run the setup and let the
// scenario prepare) and lasts LOADTEST_PROFILE_SECONDS (default 10); the
// profile goes to LOADTEST_PROFILE_OUT (default cpu.pprof), and the server
// stops LOADTEST_PROFILE_LINGER (default 5) seconds after it. For example:
//
//	go test -c -o /tmp/tsubasa.test ./cmd/tsubasa/internal/app
//	LOADTEST_PROFILE_CONFIG=lt.yaml LOADTEST_PROFILE_OUT=sso.pprof \
//	  /tmp/tsubasa.test -test.run TestServeProfiled -test.timeout 0 &
//	tsubasa loadtest --config lt.yaml … --scenario sso --duration 12s
//	go tool pprof -top /tmp/tsubasa.test sso.pprof
func TestServeProfiled(t *testing.T) {
	cfg := os.Getenv("LOADTEST_PROFILE_CONFIG")
	if cfg == "" {
		t.Skip("a profiling tool: set LOADTEST_PROFILE_CONFIG to run it")
	}
	delay := envSeconds("LOADTEST_PROFILE_DELAY", 5)
	length := envSeconds("LOADTEST_PROFILE_SECONDS", 10)
	linger := envSeconds("LOADTEST_PROFILE_LINGER", 5)
	out := os.Getenv("LOADTEST_PROFILE_OUT")
	if out == "" {
		out = "cpu.pprof"
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	go func() {
		time.Sleep(delay)
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Error(err)
		}
		time.Sleep(length)
		pprof.StopCPUProfile()
		time.Sleep(linger)
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	c := loadConfig(t, cfg)
	// Serve stops on SIGTERM, as the command does in production.
	ctx, stop := signal.NotifyContext(t.Context(), syscall.SIGTERM)
	defer stop()
	if err := Serve(ctx, c, io.Discard, os.Stderr); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// loadConfig reads a config file as the command does.
func loadConfig(t testing.TB, path string) config.Config {
	t.Helper()
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dev {
		config.DevDefaults(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func envSeconds(name string, def int) time.Duration {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return time.Duration(def) * time.Second
}
