package cli

import (
	"context"

	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/storage"
)

// everyMode runs a scenario in the two modes of bothModes and a third:
// through a running server's HTTP admin API (--server, with the test
// config's client cli-ops), the server holding the database, which proves
// the command reached it over HTTP (and its calls are audited, which
// socket calls are not).
func everyMode(t *testing.T, scenario func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps)))) {
	bothModes(t, scenario)
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		e := newCLIEnv(t)
		e.mode = "http"
		// The scenarios are an operator's commands, the same in every
		// mode; the support session the API requires for a password set
		// by an agent has its own test (TestCLISupportSession).
		e.cfg.Admin.Support.RequireVerifiedSession = false
		d := e.startHTTP()
		e.requireLocked()
		scenario(t, e, func(fn func(d *app.Deps)) { fn(d) })
		e.requireLocked()
		requireAdminCalls(t, d)
	})
}

// startHTTP serves the environment's database in this process, as
// `tsubasa serve` does, on a free loopback port, and points every command
// at it with --server and cli-ops's secret.
func (e *cliEnv) startHTTP() *app.Deps {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e.cfg.Listen, e.cfg.Issuer = addr, "http://"+addr
	e.cfg.Metrics.Enabled = false // parallel servers cannot share its port
	d, err := app.Open(e.t.Context(), e.cfg, slog.New(slog.DiscardHandler), time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.ServeDeps(ctx, d) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("serve: %v", err)
		}
		d.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(e.cfg.Issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	secret := filepath.Join(e.t.TempDir(), "cli-ops.secret")
	if err := os.WriteFile(secret, []byte("cli-ops-secret-0123456789\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.extra = []string{"--server", e.cfg.Issuer, "--client-id", "cli-ops", "--client-secret-file", secret, "--agent", "cli-test"}
	return d
}

// requireAdminCalls checks that the scenario's commands went through the
// HTTP API: its calls left admin.call events naming cli-ops and the agent.
func requireAdminCalls(t *testing.T, d *app.Deps) {
	t.Helper()
	n := 0
	err := d.Store.Export(t.Context(), storage.KindEvents, func(rec any) error {
		if e := rec.(storage.Event); e.Type == "admin.call" && e.ClientID == "cli-ops" && e.Detail["agent"] == "cli-test" {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no admin.call event of cli-ops: the commands did not go through the HTTP admin API")
	}
}

// adminCallTypes drops the admin.call events (only HTTP calls make them)
// from a list of event types, for assertions shared by every mode.
func adminCallTypes(types []string) []string {
	return slices.DeleteFunc(types, func(s string) bool { return s == "admin.call" })
}
