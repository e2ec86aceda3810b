package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestLoadtestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"loadtest"},
		{"loadtest", "--issuer", "http://127.0.0.1:1", "--scenario", "nope"},
		{"loadtest", "--issuer", "http://127.0.0.1:1", "--scenario", "sso", "--client", "c", "--client-secret", "s"},
		{"loadtest", "--issuer", "http://127.0.0.1:1", "--scenario", "jwks", "--concurrency", "0"},
		{"loadtest", "--issuer", "http://127.0.0.1:1", "--scenario", "login", "--client", "c", "--client-secret", "s",
			"--member", "12", "--password", "p"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, code, errb.String())
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"abc-_./:=@9": "abc-_./:=@9", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoadtestSetupNeedsAllowSetup: --setup creates members with a fixed,
// printed password, so a config that does not set loadtest.allow_setup is
// refused, naming the key, before anything is written; one that does
// (here through the environment) gets its members.
func TestLoadtestSetupNeedsAllowSetup(t *testing.T) {
	e := newCLIEnv(t)
	e.fails(1, []string{"loadtest.allow_setup: true", "TSUBASA_LOADTEST_ALLOW_SETUP"},
		"loadtest", "--setup", "--members", "2")
	e.fails(1, []string{"no member 9000000"}, "member", "show", "9000000")
	e.fails(1, []string{`no client "loadtest-es256"`}, "client", "show", "loadtest-es256")

	t.Setenv("TSUBASA_LOADTEST_ALLOW_SETUP", "true")
	out := e.ok("loadtest", "--setup", "--members", "2")
	if !strings.Contains(out, "Load-test client loadtest-es256") || !strings.Contains(out, "9000000 to 9000001 (2 new)") {
		t.Errorf("setup with loadtest.allow_setup:\n%s", out)
	}
	e.ok("member", "show", "9000001")
}
