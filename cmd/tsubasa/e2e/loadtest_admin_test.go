package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoadtestAdminMemberRead runs the admin-member-read scenario briefly
// against the real server: the members --setup created, read through the
// HTTP admin API with the back office client's token, without an error.
// The admin API's rate limit is raised, as a load run must.
func TestLoadtestAdminMemberRead(t *testing.T) {
	s := Start(t, Options{Extra: "loadtest:\n  allow_setup: true\nadmin:\n  api:\n    rate_limit: 100000\n    burst: 100000\n"})
	var setup struct {
		Issuer  string `json:"-"`
		Member  string `json:"member"`
		Members int    `json:"members"`
	}
	out := s.CLI(t, false, "loadtest", "--setup", "--members", "8", "--json")
	if err := json.Unmarshal([]byte(out), &setup); err != nil || setup.Member == "" {
		t.Fatalf("setup output: %v\n%s", err, out)
	}
	rep := runLoad(t, s, loadSetup{Flags: strings.Join([]string{"--issuer", s.Issuer, "--client", "admin-ops",
		"--client-secret", "admin-ops-secret-0123456789", "--member", setup.Member, "--members", "8"}, " ")}, "admin-member-read")
	if rep.Iterations < 10 {
		t.Errorf("admin-member-read: %d iterations in a second", rep.Iterations)
	}
}
