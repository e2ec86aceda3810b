package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// storageConfig replaces the base config's bbolt file with o.Postgres,
// and adds secret_file where o asks for one (always on PostgreSQL).
func storageConfig(t *testing.T, cfg string, o Options) string {
	t.Helper()
	if o.Postgres != "" {
		bolt := "storage:\n  bolt:\n    path: " + o.Dir + "/tsubasa.db\n"
		if !strings.Contains(cfg, bolt) {
			t.Fatal("harness: the base config's storage section moved")
		}
		pg := "storage:\n  postgres:\n    url: '" + o.Postgres + "'\n    sslmode: disable\n"
		cfg = strings.Replace(cfg, bolt, pg, 1)
		if o.SecretFile == "" {
			o.SecretFile = filepath.Join(o.Dir, "master.secret")
			if err := os.WriteFile(o.SecretFile, []byte(PostgresSecret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if o.SecretFile != "" {
		cfg = "secret_file: " + o.SecretFile + "\n" + cfg
	}
	return cfg
}

// ServeFails runs `tsubasa serve` with o's config and returns its output
// once it exits; the test fails when it is still running after a minute
// (it should have refused to start).
func ServeFails(t *testing.T, o Options) string {
	t.Helper()
	s := Configure(t, o)
	s.launch(t, o.Env)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatalf("tsubasa serve is still running; it should have refused to start:\n%s", s.out.String())
	}
	if s.cmd.ProcessState.Success() {
		t.Fatalf("tsubasa serve exited 0; it should have refused to start:\n%s", s.out.String())
	}
	return s.out.String()
}
