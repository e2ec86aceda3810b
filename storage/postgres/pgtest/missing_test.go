package pgtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// helperEnv makes this test binary, run again by the test below, play a
// machine without PostgreSQL.
const helperEnv = "PGTEST_PLAY_MISSING"

// Without PostgreSQL a test skips, saying how to install it; with
// TSUBASA_REQUIRE_POSTGRES=1 it fails instead.
func TestMissingPostgresSkipsOrFails(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		binGlob = "/nonexistent/postgresql/*/bin"
		Get(t)
		t.Fatal("Get returned without PostgreSQL")
	}
	for _, tc := range []struct {
		require  string
		fails    bool
		contains []string
	}{
		{"", false, []string{"--- SKIP", "apt-get install postgresql", RequireEnv + "=1"}},
		{"1", true, []string{"--- FAIL", "is required", "apt-get install postgresql"}},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingPostgresSkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=1", RequireEnv+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fails {
			t.Errorf("%s=%q: exit error %v, want failure %v\n%s", RequireEnv, tc.require, err, tc.fails, out)
		}
		for _, want := range tc.contains {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s=%q: output lacks %q:\n%s", RequireEnv, tc.require, want, out)
			}
		}
	}
}
