package admin

import (
	"testing"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// TestEventsCursorSurvivesRetention: an operator pages through a member's
// events while the retention deletes the oldest, the one the cursor names
// among them. The next page is what is left after the cursor's position
// (here nothing), not an error, and a fresh listing reads what is left.
func TestEventsCursorSurvivesRetention(t *testing.T) {
	svc, st := newService(t, asIs)
	ctx := t.Context()
	const id = "abcdefghijklmnopqrstuvwxyz"
	if err := st.CreateMember(ctx, storage.Member{ID: id, Number: "000000001", Status: storage.MemberActive}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l := audit.New(st, nil)
	for i := range 6 { // hours 6 to 1 before now
		if err := l.Record(ctx, storage.Event{Type: audit.EventLoginSucceeded, MemberID: id, Time: now.Add(-time.Duration(6-i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := svc.listEvents(ctx, adminapi.EventsInput{Number: id, Limit: 4})
	if err != nil || len(page.Events) != 4 || page.Next == "" {
		t.Fatalf("first page = %d events, next %q, %v; want 4 and a cursor", len(page.Events), page.Next, err)
	}
	// Retention of 2h30m at now: hours 6, 5, 4 and 3 go, the page's last
	// (hour 3) among them.
	r := audit.NewRetention(st, 150*time.Minute, nil, func() time.Time { return now })
	if n, err := r.Prune(ctx); err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4 deleted", n, err)
	}
	next, err := svc.listEvents(ctx, adminapi.EventsInput{Number: id, Limit: 4, Cursor: page.Next})
	if err != nil {
		t.Fatalf("next page after the prune: %v; want an answer", err)
	}
	if len(next.Events) != 0 || next.Next != "" {
		t.Errorf("next page = %+v; want empty, without a cursor", next)
	}
	fresh, err := svc.listEvents(ctx, adminapi.EventsInput{Number: id, Limit: 4})
	if err != nil || len(fresh.Events) != 2 || fresh.Next != "" {
		t.Fatalf("a fresh listing = %d events, next %q, %v; want the 2 inside the retention", len(fresh.Events), fresh.Next, err)
	}
}
