package cli

import (
	"bytes"
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
