package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// cliEnv is a config file and database in a temporary directory, and a way
// to run the CLI against them.
type cliEnv struct {
	t       *testing.T
	cfgPath string
	cfg     config.Config
}

// testConfig is development mode with cheap password hashing and one client
// from the config file.
const testConfig = `dev: true
storage:
  bolt:
    path: %s
password:
  argon2:
    memory_kib: 8192
    iterations: 1
clients:
  - id: from-file
    secret: file-client-secret-0123456789
    redirect_uris: [https://file.example.com/cb]
`

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tsubasa.yaml")
	yaml := fmt.Sprintf(testConfig, filepath.Join(dir, "tsubasa.db"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &cliEnv{t: t, cfgPath: cfgPath}
	cfg, err := (&globals{configPath: cfgPath}).loadConfig()
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	e.cfg = cfg
	return e
}

// run runs the CLI and returns its output and exit code.
func (e *cliEnv) run(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"--config", e.cfgPath}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs the CLI and fails the test unless it exits 0.
func (e *cliEnv) ok(args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("tsubasa %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// fails runs the CLI, wants exit code want and stderr containing every
// fragment.
func (e *cliEnv) fails(want int, fragments []string, args ...string) {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != want {
		e.t.Fatalf("tsubasa %s: exit %d, want %d\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), code, want, out, errs)
	}
	for _, f := range fragments {
		if !strings.Contains(errs, f) {
			e.t.Errorf("tsubasa %s: stderr lacks %q:\n%s", strings.Join(args, " "), f, errs)
		}
	}
}

// okJSON runs the CLI with --json and decodes its output into v.
func (e *cliEnv) okJSON(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("tsubasa %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// openDeps opens the environment's database as the server would.
func (e *cliEnv) openDeps() *deps {
	e.t.Helper()
	d, err := openDeps(e.t.Context(), e.cfg, slog.New(slog.DiscardHandler), time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// startServer opens the database and serves the admin API on the
// configured socket, as a running server does. rotations counts key
// rotations that went through the server's rotate function.
func (e *cliEnv) startServer() (d *deps, srv *adminServer, rotations *atomic.Int32) {
	e.t.Helper()
	d = e.openDeps()
	rotations = &atomic.Int32{}
	ops := newAdminOps(d, func(ctx context.Context) ([]storage.SigningKey, error) {
		rotations.Add(1)
		return provider.RotateKeys(ctx, d.store, 2048, time.Now(), time.Hour)
	})
	srv, err := newAdminServer(ops, e.cfg.AdminSocket(), slog.New(slog.DiscardHandler))
	if err != nil {
		d.Close()
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("admin server: %v", err)
		}
		srv.Close()
		d.Close()
	})
	return d, srv, rotations
}

// requireLocked proves the database is held (by the test's server), so a
// command that succeeds cannot have opened it.
func (e *cliEnv) requireLocked() {
	e.t.Helper()
	st, err := bolt.Open(e.cfg.Storage.Bolt.Path, bolt.Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		st.Close()
		e.t.Fatal("database is not locked")
	}
	if !errors.Is(err, bolt.ErrLocked) {
		e.t.Fatalf("open: %v, want ErrLocked", err)
	}
}

func TestAdminSocketModeAndCleanup(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	d := e.openDeps()
	defer d.Close()
	path := e.cfg.AdminSocket()
	srv, err := newAdminServer(newAdminOps(d, nil), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if _, ok := dialAdmin(path); !ok {
		t.Error("dialAdmin: no server found on a listening socket")
	}
	if _, err := newAdminServer(newAdminOps(d, nil), path, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "another server answers") {
		t.Errorf("second server on a live socket: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after Close: %v", err)
	}
	if _, ok := dialAdmin(path); ok {
		t.Error("dialAdmin: server found after Close")
	}
}

func TestAdminSocketReplacesStaleSocket(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	d := e.openDeps()
	defer d.Close()
	path := e.cfg.AdminSocket()
	// A socket file whose server is gone, as a crash leaves it.
	stale, err := listenUnixNoUnlink(path)
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket missing: %v", err)
	}
	if _, ok := dialAdmin(path); ok {
		t.Error("dialAdmin: server found on a stale socket")
	}
	srv, err := newAdminServer(newAdminOps(d, nil), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	srv.Close()

	// A regular file in the way is left alone.
	if err := os.WriteFile(path, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newAdminServer(newAdminOps(d, nil), path, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "not a socket") {
		t.Errorf("regular file at socket path: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "not a socket" {
		t.Error("regular file at the socket path was changed")
	}
}

func TestPeerAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uid, self uint32
		want      bool
	}{
		{1000, 1000, true},
		{0, 1000, true},
		{1001, 1000, false},
		{1000, 0, false},
		{0, 0, true},
	} {
		if got := peerAllowed(tc.uid, tc.self); got != tc.want {
			t.Errorf("peerAllowed(%d, %d) = %v, want %v", tc.uid, tc.self, got, tc.want)
		}
	}
}

// TestCLIDatabaseHeldWithoutSocket: a process holds the database but no
// server answers on the socket (e.g. one configured with another
// admin.socket). The command must fail clearly, not wait or corrupt.
func TestCLIDatabaseHeldWithoutSocket(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	d := e.openDeps()
	defer d.Close()
	e.fails(1, []string{"locked", "no server answers on the admin socket " + e.cfg.AdminSocket()},
		"client", "list")
}
