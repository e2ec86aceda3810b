package e2e

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// loadSetup is what `tsubasa loadtest --setup --json` prints.
type loadSetup struct {
	ClientID string `json:"client_id"`
	Flags    string `json:"flags"`
}

// TestLoadtest creates the load-test client and members through the running
// server's admin socket, then runs every scenario briefly against the real
// server: each must complete iterations without a single error and report
// the fields operators and scripts read. The config is marked for load
// testing: --setup refuses any other.
func TestLoadtest(t *testing.T) {
	s := Start(t, Options{Extra: "loadtest:\n  allow_setup: true\n"})
	var setup loadSetup
	out := s.CLI(t, false, "loadtest", "--setup", "--members", "4", "--json")
	if err := json.Unmarshal([]byte(out), &setup); err != nil || setup.ClientID != "loadtest-es256" || setup.Flags == "" {
		t.Fatalf("setup output: %v\n%s", err, out)
	}
	pid := strconv.Itoa(s.cmd.Process.Pid)
	for _, sc := range []string{"login", "sso", "refresh", "client-credentials", "userinfo", "introspect", "discovery", "jwks"} {
		t.Run(sc, func(t *testing.T) {
			rep := runLoad(t, s, setup, sc, "--pid", pid)
			if sc == "login" || sc == "sso" {
				if rep.IDTokenAlg != "ES256" {
					t.Errorf("ID tokens signed %q, want ES256 (the setup client's)", rep.IDTokenAlg)
				}
			}
			if sc == "login" && (rep.Hash == nil || rep.Hash.PerSecond <= 0) {
				t.Errorf("login report lacks the hash ceiling: %+v", rep.Hash)
			}
			if rep.Server == nil || rep.Server.PeakMiB <= 0 {
				t.Errorf("--pid given but no server memory: %+v", rep.Server)
			}
		})
	}
	t.Run("setup again, RS256", func(t *testing.T) {
		// A second setup replaces the client and keeps the members.
		var rs loadSetup
		out := s.CLI(t, false, "loadtest", "--setup", "--members", "4", "--alg", "RS256", "--json")
		if err := json.Unmarshal([]byte(out), &rs); err != nil || rs.ClientID != "loadtest-rs256" {
			t.Fatalf("setup output: %v\n%s", err, out)
		}
		if rep := runLoad(t, s, rs, "sso"); rep.IDTokenAlg != "RS256" {
			t.Errorf("ID tokens signed %q, want RS256", rep.IDTokenAlg)
		}
	})
	t.Run("private_key_jwt", func(t *testing.T) {
		// A partner-style client: a key instead of a secret, a new
		// assertion for every request.
		var pk loadSetup
		key := filepath.Join(t.TempDir(), "loadtest.jwk")
		out := s.CLI(t, false, "loadtest", "--setup", "--members", "4", "--client-auth", "private_key_jwt",
			"--client-key", key, "--json")
		if err := json.Unmarshal([]byte(out), &pk); err != nil || pk.ClientID != "loadtest-es256-pkjwt" ||
			!strings.Contains(pk.Flags, "--client-key") || strings.Contains(pk.Flags, "--client-secret") {
			t.Fatalf("setup output: %v\n%s", err, out)
		}
		for _, sc := range []string{"client-credentials", "introspect", "refresh"} {
			runLoad(t, s, pk, sc)
		}
		// Assertions signed before the run, each with its own jti: the
		// server's replay check passes every one (an error would show).
		if rep := runLoad(t, s, pk, "client-credentials", "--presign", "20000"); rep.SignedInline != 0 {
			t.Errorf("--presign 20000 for a 1 s run: %d signed inside the run", rep.SignedInline)
		}
	})
	t.Run("dpop", func(t *testing.T) {
		// DPoP-bound tokens at userinfo, each request with a fresh proof,
		// signed before the run or in it; and DPoP token requests.
		for _, extra := range [][]string{{"--dpop"}, {"--dpop", "--presign", "20000"}} {
			runLoad(t, s, setup, "userinfo", extra...)
		}
		runLoad(t, s, setup, "client-credentials", "--dpop", "--presign", "20000")
	})
}

// loadReport holds the fields of the loadtest report the suite checks.
type loadReport struct {
	Iterations        int               `json:"iterations"`
	RequestsPerSecond *float64          `json:"requests_per_second"`
	P50               *float64          `json:"p50_ms"`
	P95               *float64          `json:"p95_ms"`
	P99               *float64          `json:"p99_ms"`
	Errors            map[string]int    `json:"errors"`
	ErrorSamples      map[string]string `json:"error_samples"`
	IDTokenAlg        string            `json:"id_token_alg"`
	SignedInline      int               `json:"signed_inline"`
	Hash              *struct {
		PerSecond float64 `json:"ceiling_per_second"`
	} `json:"argon2id"`
	Server *struct {
		PeakMiB float64 `json:"peak_rss_mib"`
	} `json:"server"`
}

func runLoad(t *testing.T, s *Server, setup loadSetup, scenario string, extra ...string) loadReport {
	t.Helper()
	args := append([]string{"loadtest", "--scenario", scenario, "--concurrency", "4", "--duration", "1s", "--json"},
		strings.Fields(setup.Flags)...)
	out := s.CLI(t, false, append(args, extra...)...)
	var rep loadReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not one JSON object: %v\n%s", err, out)
	}
	if rep.RequestsPerSecond == nil || rep.P50 == nil || rep.P95 == nil || rep.P99 == nil || rep.Errors == nil {
		t.Errorf("report lacks requests_per_second, p50_ms, p95_ms, p99_ms or errors:\n%s", out)
	}
	if len(rep.Errors) > 0 || rep.Iterations == 0 {
		t.Errorf("%s: %d iterations, errors %v %v", scenario, rep.Iterations, rep.Errors, rep.ErrorSamples)
	}
	return rep
}
