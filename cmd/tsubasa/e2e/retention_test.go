package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/provider/notify/notifytest"
	"tsubasa/storage/postgres"
)

// TestAuditRetentionKeepsPagesAndHistory: the audit retention deletes a
// member's oldest events, on the PostgreSQL database every replica's
// janitor prunes, while an operator pages through them. The next page
// after a cursor that names a deleted event is answered (empty: nothing
// older is left), a fresh listing shows exactly what is inside the
// retention, and the member's login history page still renders.
func TestAuditRetentionKeepsPagesAndHistory(t *testing.T) {
	db := PostgresURL(t)
	smtp := notifytest.NewSMTPServer(t)
	s := startWithMail(t, smtp, Options{Postgres: db})
	tok := OpsToken(t, s)
	rp := NewRP(t, s, "web", WebSecret)
	member := NewBrowser(t, s)
	for range 3 {
		LoginRP(t, rp, NewBrowser(t, s))
	}
	events := membersPath + MemberNumber + "/events?limit=3"
	var first adminapi.EventsOutput
	AdminDo(t, s, http.MethodGet, events, tok, "").JSON(t, &first)
	if len(first.Events) != 3 || first.Next == "" {
		t.Fatalf("first page: %d events, next %q; want 3 and a cursor", len(first.Events), first.Next)
	}
	last := first.Events[2]

	// Prune as the server's janitor does, with a clock at which the
	// page's last event and everything older are past the retention.
	st, err := postgres.Open(t.Context(), postgres.Options{URL: db, SSLMode: "disable"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const retention = 720 * time.Hour
	at := last.Time.Add(retention + time.Nanosecond)
	n, err := audit.NewRetention(st, retention, nil, func() time.Time { return at }).Prune(t.Context())
	if err != nil || n == 0 {
		t.Fatalf("Prune = %d, %v; want the member's older events deleted", n, err)
	}

	a := AdminDo(t, s, http.MethodGet, events+"&cursor="+url.QueryEscape(first.Next), tok, "")
	if a.Status != http.StatusOK {
		t.Fatalf("the next page after the prune: %d %s; want 200", a.Status, a.Body)
	}
	var next adminapi.EventsOutput
	if a.JSON(t, &next); len(next.Events) != 0 || next.Next != "" {
		t.Errorf("the next page after the prune = %+v; want empty (all older events are gone)", next)
	}
	var fresh adminapi.EventsOutput
	AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/events?limit=500", tok, "").JSON(t, &fresh)
	if len(fresh.Events) < 2 {
		t.Fatalf("after the prune %d events are left; want the page's first two at least", len(fresh.Events))
	}
	for _, e := range fresh.Events {
		if !e.Time.After(last.Time) {
			t.Errorf("event %s (%s at %s) is past the retention and still listed", e.ID, e.Type, e.Time)
		}
	}
	history := accountPage(t, member, smtp, s.Issuer+"/account/history")
	if !strings.Contains(history.Body, "成功") {
		t.Errorf("the login history after the prune shows no successful login:\n%s", history.Body)
	}
}
