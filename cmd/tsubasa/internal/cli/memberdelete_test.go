package cli

import (
	"errors"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage"
)

// TestCLIMemberDelete erases a member in every mode (direct, socket,
// --server): without --yes and with no terminal it refuses and erases
// nothing; with --yes the member, their number and their events are gone
// but for the tombstone, and the number can be given again.
func TestCLIMemberDelete(t *testing.T) {
	t.Parallel()
	everyMode(t, func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps))) {
		e.ok("member", "create", "--number", "2345678", "--password", "Blue-Sky-Flight-88",
			"--family-name", "削除", "--given-name", "太郎", "--email", "taro.delete@example.com", "--phone", "090-5555-0123")
		var before adminapi.MemberView
		e.okJSON(&before, "member", "show", "2345678")

		e.fails(2, []string{"refusing to erase member 2345678 without --yes", "not a terminal"},
			"member", "delete", "2345678")
		e.ok("member", "show", "2345678") // still there

		var out adminapi.MemberErased
		e.okJSON(&out, "member", "delete", "2345678", "--yes")
		if out.ID != before.ID || out.Tombstone == "" || out.Records < 1 {
			t.Errorf("member delete --json = %+v, want the member id %s and a tombstone", out, before.ID)
		}
		e.fails(1, []string{"no member 2345678"}, "member", "show", "2345678")
		e.fails(1, []string{"no member 2345678"}, "member", "delete", "2345678", "--yes")
		inspect(func(d *app.Deps) {
			if _, err := d.Store.MemberByID(t.Context(), before.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("MemberByID after erasure: %v", err)
			}
			evs, err := d.Store.ListEvents(t.Context(), before.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].ID != out.Tombstone || evs[0].Type != "member.erased" {
				t.Errorf("events under the erased member: %+v, want the tombstone %s alone", evs, out.Tombstone)
			}
			for _, e := range evs {
				for _, v := range e.Detail {
					if strings.Contains(v, "2345678") || strings.Contains(v, "taro") {
						t.Errorf("the tombstone holds personal data: %+v", e)
					}
				}
			}
		})
		e.ok("member", "create", "--number", "2345678", "--family-name-latin", "NEW")
	})
}

// TestCLIMemberFind finds members by email and by phone in every mode,
// after the same normalisation as creation (domain case, national form).
func TestCLIMemberFind(t *testing.T) {
	t.Parallel()
	everyMode(t, func(t *testing.T, e *cliEnv, _ func(func(d *app.Deps))) {
		e.ok("member", "create", "--number", "3456789", "--family-name-latin", "SATO",
			"--email", "Sato@Example.com", "--phone", "090-5555-0199")
		var out adminapi.MembersFound
		e.okJSON(&out, "member", "find", "--email", "Sato@example.COM")
		if len(out.Members) != 1 || out.Members[0].Number != "3456789" {
			t.Errorf("find --email: %+v", out)
		}
		e.okJSON(&out, "member", "find", "--phone", "+819055550199")
		if len(out.Members) != 1 || out.Members[0].Number != "3456789" {
			t.Errorf("find --phone: %+v", out)
		}
		if got := e.ok("member", "find", "--email", "sato@example.com"); !strings.Contains(got, "No member has that contact") {
			t.Errorf("the local part is matched as written: %s", got)
		}
		e.fails(2, []string{"give either --email or --phone"}, "member", "find")
		e.fails(2, []string{"email"}, "member", "find", "--email", "nobody")
	})
}
