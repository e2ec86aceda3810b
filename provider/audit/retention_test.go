package audit

import (
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// TestRetentionPrunesOldEventsKeepsTombstones: a run deletes what is older
// than the retention, a bounded number of chunks at a time (the next run
// goes on), and never an erasure tombstone nor a recent event.
func TestRetentionPrunesOldEventsKeepsTombstones(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l := New(st, nil)
	const retention = 400 * 24 * time.Hour
	record := func(typ, member string, age time.Duration) {
		t.Helper()
		if err := l.Record(ctx, storage.Event{Type: typ, MemberID: member, Time: now.Add(-age)}); err != nil {
			t.Fatal(err)
		}
	}
	record(EventMemberErased, "erased", 3*365*24*time.Hour)
	for i := range 7 {
		record(EventLoginSucceeded, "m1", retention+time.Duration(7-i)*time.Hour)
	}
	record(EventLoginSucceeded, "m1", retention-time.Hour)
	record(EventLoginFailed, "m1", time.Hour)

	r := NewRetention(st, retention, nil, func() time.Time { return now })
	r.chunk, r.chunks = 2, 2
	for i, want := range []int{4, 3, 0} {
		n, err := r.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("run %d deleted %d events, want %d (at most 2 chunks of 2 a run)", i+1, n, want)
		}
	}
	left, err := l.List(ctx, "m1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].Type != EventLoginFailed || !left[1].Time.Equal(now.Add(-retention+time.Hour)) {
		t.Errorf("m1's events after the runs = %+v, want the two inside the retention", left)
	}
	tomb, err := l.List(ctx, "erased", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tomb) != 1 || tomb[0].Type != EventMemberErased {
		t.Errorf("the erased member's events = %+v, want the tombstone kept", tomb)
	}
}

// TestRetentionZeroKeepsEverything: retention 0 is "keep forever".
func TestRetentionZeroKeepsEverything(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	ctx := t.Context()
	l := New(st, nil)
	if err := l.Record(ctx, storage.Event{Type: EventLoginSucceeded, MemberID: "m1", Time: time.Unix(0, 1).UTC()}); err != nil {
		t.Fatal(err)
	}
	n, err := NewRetention(st, 0, nil, nil).Prune(ctx)
	if err != nil || n != 0 {
		t.Fatalf("Prune = %d, %v; want 0, nil", n, err)
	}
	if evs, _ := l.List(ctx, "m1", 0); len(evs) != 1 {
		t.Errorf("%d events left, want the one", len(evs))
	}
}
