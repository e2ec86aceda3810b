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

// TestLoadtestAdminImport: --setup prints an admin client that the admin
// scenarios use as they are, and admin-import creates every member of
// its range through POST /admin/v1/members:import, body by body, each
// job followed to its end, with no row refused; the members are then
// there, and a second run of the same range creates none (skips them
// all) without an error.
func TestLoadtestAdminImport(t *testing.T) {
	s := Start(t, Options{Extra: "loadtest:\n  allow_setup: true\nadmin:\n  api:\n    rate_limit: 100000\n    burst: 100000\n"})
	var setup struct {
		AdminClient string `json:"admin_client_id"`
		AdminSecret string `json:"admin_client_secret"`
		AdminFlags  string `json:"admin_flags"`
	}
	out := s.CLI(t, false, "loadtest", "--setup", "--members", "4", "--json")
	if err := json.Unmarshal([]byte(out), &setup); err != nil || setup.AdminClient == "" || setup.AdminSecret == "" {
		t.Fatalf("setup output lacks the admin client: %v\n%s", err, out)
	}
	runLoad(t, s, loadSetup{Flags: setup.AdminFlags}, "admin-member-read")

	flags := loadSetup{Flags: strings.Join([]string{"--issuer", s.Issuer, "--client", setup.AdminClient,
		"--client-secret", setup.AdminSecret, "--member", "500000000", "--members", "2500", "--batch", "1000"}, " ")}
	type importRep struct {
		Import *struct {
			Members, Created, Skipped, Bodies int
			RowErrors                         int     `json:"row_errors"`
			FailedBodies                      int     `json:"failed_bodies"`
			PerSecond                         float64 `json:"members_per_second"`
		} `json:"import"`
	}
	run := func() importRep {
		args := []string{"loadtest", "--scenario", "admin-import", "--concurrency", "2", "--duration", "2m", "--json"}
		out := s.CLI(t, false, append(args, strings.Fields(flags.Flags)...)...)
		var rep importRep
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Import == nil {
			t.Fatalf("admin-import report lacks import: %v\n%s", err, out)
		}
		if rep.Import.RowErrors != 0 || rep.Import.FailedBodies != 0 || rep.Import.Bodies != 3 || rep.Import.Members != 2500 {
			t.Errorf("admin-import: %+v\n%s", *rep.Import, out)
		}
		return rep
	}
	first := run()
	if first.Import.Created != 2500 || first.Import.PerSecond <= 0 {
		t.Errorf("first import created %d (%.1f/s), want 2500", first.Import.Created, first.Import.PerSecond)
	}
	for _, n := range []string{"500000000", "500002499"} {
		if out := s.CLI(t, false, "member", "show", n); !strings.Contains(out, n) {
			t.Errorf("member %s after the import:\n%s", n, out)
		}
	}
	if again := run(); again.Import.Created != 0 || again.Import.Skipped != 2500 {
		t.Errorf("the same range again: created %d, skipped %d; want 0 and 2500", again.Import.Created, again.Import.Skipped)
	}
}
