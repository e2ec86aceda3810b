package cli

import (
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// TestCLIEvents: `tsubasa events` prints a member's events newest first,
// in the alerts' zone, with secrets redacted, through the server or
// directly.
func TestCLIEvents(t *testing.T) {
	t.Parallel()
	everyMode(t, func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps))) {
		e.ok("member", "create", "--number", "7654321", "--password", "Blue-Sky-Flight-88", "--family-name", "空野")
		if out := e.ok("events", "--member", "7654321"); !strings.Contains(out, "member.created") {
			t.Errorf("events after create:\n%s", out)
		}
		at := time.Date(2099, 6, 30, 15, 0, 0, 0, time.UTC) // after member.created
		inspect(func(d *app.Deps) {
			m, err := d.Store.MemberByNumber(t.Context(), "7654321")
			if err != nil {
				t.Fatal(err)
			}
			l := audit.New(d.Store, nil)
			for i, ev := range []storage.Event{
				{Type: audit.EventLoginFailed, Reason: "bad_credentials", IP: "203.0.113.9"},
				{Type: audit.EventLoginSucceeded, Success: true, Method: "pwd", ClientID: "web", IP: "203.0.113.7",
					Detail: map[string]string{"environment": "no_cookie", "alert": "queued", "otp_code": "123456"}},
			} {
				ev.MemberID, ev.Time = m.ID, at.Add(time.Duration(i)*time.Minute)
				if err := l.Record(t.Context(), ev); err != nil {
					t.Fatal(err)
				}
			}
		})
		out := e.ok("events", "--member", "765-4321", "--limit", "2")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "2099-07-01 00:01:00 JST login.succeeded") ||
			!strings.Contains(lines[0], "alert=queued") || !strings.Contains(lines[1], "reason=bad_credentials") {
			t.Errorf("events --limit 2:\n%s", out)
		}
		if strings.Contains(out, "123456") {
			t.Errorf("events print a secret:\n%s", out)
		}
		var js adminapi.EventsOutput
		e.okJSON(&js, "events", "--member", "7654321")
		var types []string
		for _, ev := range js.Events {
			types = append(types, ev.Type)
		}
		// Over HTTP the create is audited under the member too.
		if e.mode == "http" && !slices.Contains(types, "admin.call") {
			t.Errorf("events --json over HTTP lack the create's admin.call: %v", types)
		}
		if types = adminCallTypes(types); js.Number != "7654321" || len(types) != 3 || types[0] != audit.EventLoginSucceeded ||
			js.Events[0].Detail["otp_code"] != audit.Redacted || types[2] != "member.created" {
			t.Errorf("events --json: %v %+v", types, js)
		}
		e.fails(1, []string{"no member 1234567"}, "events", "--member", "1234567")
		e.fails(2, []string{"limit"}, "events", "--member", "7654321", "--limit", "-1")
		e.fails(1, []string{"member"}, "events")
	})
}
