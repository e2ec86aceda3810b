package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/internal/adminsock"
	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/provider/admin"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// cliEnv is a config file and database in a temporary directory, and a way
// to run the CLI against them.
type cliEnv struct {
	t       *testing.T
	cfgPath string
	cfg     config.Config
	// mode is how the commands reach the database: direct, server (the
	// admin socket) or http (--server, the HTTP admin API).
	mode string
	// extra are flags every command gets (http mode's --server).
	extra []string
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
  - id: cli-ops
    secret: cli-ops-secret-0123456789
    grant_types: [client_credentials]
    scopes: [admin:members:read, admin:members:write, admin:members:support, admin:clients, admin:keys, admin:events:read]
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

// run runs the CLI as the binary does.
func run(args []string, stdout, stderr io.Writer) int { return Run(args, stdout, stderr, "test") }

// run runs the CLI and returns its output and exit code.
func (e *cliEnv) run(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code = run(append(append([]string{"--config", e.cfgPath}, args...), e.extra...), &out, &errb)
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
func (e *cliEnv) openDeps() *app.Deps {
	e.t.Helper()
	d, err := app.Open(e.t.Context(), e.cfg, slog.New(slog.DiscardHandler), time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// startServer opens the database and serves the admin API on the
// configured socket, as a running server does. rotations counts key
// rotations that went through the server's rotate function.
func (e *cliEnv) startServer() (d *app.Deps, srv *adminsock.Server, rotations *atomic.Int32) {
	e.t.Helper()
	d = e.openDeps()
	rotations = &atomic.Int32{}
	opts, err := d.AdminOptions(nil)
	if err != nil {
		d.Close()
		e.t.Fatal(err)
	}
	opts.RotateKeys = func(ctx context.Context) ([]storage.SigningKey, error) {
		rotations.Add(1)
		return provider.RotateKeys(ctx, d.Store, 2048, time.Now(), time.Hour)
	}
	ops, err := admin.New(opts)
	if err != nil {
		d.Close()
		e.t.Fatal(err)
	}
	srv, err = adminsock.Listen(ops, e.cfg.AdminSocket(), slog.New(slog.DiscardHandler))
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

// TestAdminAPIErrors checks the wire format: JSON errors with the field and
// a status that says what went wrong.
func TestAdminAPIErrors(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.startServer()
	c := adminsock.NewClient(e.cfg.AdminSocket()).HTTP()
	post := func(op, body string) (int, map[string]string) {
		t.Helper()
		resp, err := c.Post("http://tsubasa-admin/v1/"+op, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", op, ct)
		}
		var m map[string]string
		if resp.StatusCode != http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatalf("%s: error body: %v", op, err)
			}
		}
		return resp.StatusCode, m
	}
	for _, tc := range []struct {
		name, op, body string
		status         int
		field, message string
	}{
		{"added", "client/add", `{"id":"web","redirect_uris":["https://web.example.com/cb"]}`, 200, "", ""},
		{"duplicate", "client/add", `{"id":"web","redirect_uris":["https://web.example.com/cb"]}`, 409, "id", `client "web" already exists`},
		{"config client", "client/add", `{"id":"from-file","redirect_uris":["https://x.example.com/cb"]}`, 409, "id", "config file"},
		{"relative redirect", "client/add", `{"id":"x","redirect_uris":["/cb"]}`, 400, "redirect_uris[0]", `"/cb"`},
		{"fragment", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb","https://x.example.com/cb#f"]}`, 400, "redirect_uris[1]", `"https://x.example.com/cb#f"`},
		{"wildcard", "client/add", `{"id":"x","redirect_uris":["https://*.example.com/cb"]}`, 400, "redirect_uris[0]", "wildcards"},
		{"bad grant", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb"],"grant_types":["password"]}`, 400, "grant_types[0]", `"password"`},
		{"bad scope", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb"],"scopes":["admin"]}`, 400, "scopes[0]", `"admin"`},
		{"bad alg", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb"],"id_token_alg":"HS256"}`, 400, "id_token_alg", "HS256"},
		{"public with client credentials", "client/add", `{"id":"x","public":true,"grant_types":["client_credentials"]}`, 400, "grant_types[0]", "public"},
		{"unknown field", "client/add", `{"id":"x","secret":"mine"}`, 400, "secret", `unknown field "secret"`},
		{"wrong type", "member/show", `{"number":1234567}`, 400, "number", "number must be a string"},
		{"missing client", "client/show", `{"id":"nobody"}`, 404, "", `no client "nobody"`},
		{"bad number", "member/create", `{"number":"12","family_name_latin":"SATO"}`, 400, "number", "7 or 9 digits"},
		{"missing member", "member/show", `{"number":"7654321"}`, 404, "", "no member 7654321"},
		{"bad limit", "events/list", `{"number":"7654321","limit":-1}`, 400, "limit", "from 1 to 500"},
		{"unknown op", "nothing/here", `{}`, 404, "", "unknown operation"},
	} {
		status, body := post(tc.op, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, body)
			continue
		}
		if status == 200 {
			continue
		}
		if body["field"] != tc.field {
			t.Errorf("%s: field %q, want %q", tc.name, body["field"], tc.field)
		}
		if !strings.Contains(body["error"], tc.message) {
			t.Errorf("%s: error %q lacks %q", tc.name, body["error"], tc.message)
		}
	}
	// Only POST /v1/<op> exists.
	resp, err := c.Get("http://tsubasa-admin/v1/client/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("GET answered 200")
	}
}
