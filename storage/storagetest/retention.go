package storagetest

import (
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// Event IDs here sort by time, as audit.NewID's do: a backend may walk the
// log in ID order (see storage.EventRetention).

// aged appends, for member, n events an hour apart starting at from, with
// ids that sort by time under prefix, and returns their ids.
func aged(t *testing.T, s storage.Store, prefix, member string, from time.Time, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		when := from.Add(time.Duration(i) * time.Hour)
		id := fmt.Sprintf("%s%016x", prefix, when.UnixNano())
		ok(t, s.AppendEvent(t.Context(), event(id, member, when)))
		ids = append(ids, id)
	}
	return ids
}

// erased is the erasure tombstone kept past the retention in these cases.
const erased = "member.erased"

var retentionTests = []test{
	{"DeleteEventsBefore/deletes the events older than the cutoff, keeps the recent and the kept types", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		aged(t, s, "e", "m1", at(0), 3)                     // hours 0, 1, 2
		recent := aged(t, s, "e", "m1", at(3*time.Hour), 2) // hours 3, 4
		aged(t, s, "e", "m2", at(30*time.Minute), 1)        // before the cutoff too
		tomb := event(fmt.Sprintf("e%016x", at(10*time.Minute).UnixNano()), "m3", at(10*time.Minute))
		tomb.Type = erased
		ok(t, s.AppendEvent(ctx, tomb))

		// The cutoff itself is inside the retention: hour 3 stays.
		equal(t, must(s.DeleteEventsBefore(ctx, at(3*time.Hour), []string{erased}, 100))(t), 4)
		equal(t, eventIDs(must(s.ListEvents(ctx, "m1", 0))(t)), []string{recent[1], recent[0]})
		equal(t, len(must(s.ListEvents(ctx, "m2", 0))(t)), 0)
		equal(t, eventIDs(must(s.ListEvents(ctx, "m3", 0))(t)), []string{tomb.ID})
		// Nothing more is due.
		equal(t, must(s.DeleteEventsBefore(ctx, at(3*time.Hour), []string{erased}, 100))(t), 0)
	}},
	{"DeleteEventsBefore/deletes at most limit per call, oldest first, and the next calls finish the work", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ids := aged(t, s, "e", "m1", at(0), 7)
		cutoff := at(5 * time.Hour) // hours 0 to 4 are past it
		equal(t, must(s.DeleteEventsBefore(ctx, cutoff, nil, 2))(t), 2)
		equal(t, eventIDs(must(s.ListEvents(ctx, "m1", 0))(t)), []string{ids[6], ids[5], ids[4], ids[3], ids[2]})
		equal(t, must(s.DeleteEventsBefore(ctx, cutoff, nil, 2))(t), 2)
		equal(t, must(s.DeleteEventsBefore(ctx, cutoff, nil, 2))(t), 1)
		equal(t, must(s.DeleteEventsBefore(ctx, cutoff, nil, 2))(t), 0)
		equal(t, eventIDs(must(s.ListEvents(ctx, "m1", 0))(t)), []string{ids[6], ids[5]})
	}},
	{"DeleteEventsBefore/kept events do not count against the limit nor stop the work", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for i := range 3 { // the oldest of the log: passed over on every call
			when := at(time.Duration(i) * time.Minute)
			e := event(fmt.Sprintf("e%016x", when.UnixNano()), fmt.Sprintf("gone%d", i), when)
			e.Type = erased
			ok(t, s.AppendEvent(ctx, e))
		}
		aged(t, s, "e", "m1", at(time.Hour), 3)
		equal(t, must(s.DeleteEventsBefore(ctx, at(10*time.Hour), []string{erased}, 2))(t), 2)
		equal(t, must(s.DeleteEventsBefore(ctx, at(10*time.Hour), []string{erased}, 2))(t), 1)
		equal(t, len(must(s.ListEvents(ctx, "m1", 0))(t)), 0)
		for i := range 3 {
			equal(t, len(must(s.ListEvents(ctx, fmt.Sprintf("gone%d", i), 0))(t)), 1)
		}
	}},
	{"DeleteEventsBefore/a page position naming a deleted event still places the next page", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ids := aged(t, s, "e", "m1", at(0), 6)
		first := must(s.ListEventsBefore(ctx, "m1", time.Time{}, "", 4))(t) // hours 5 to 2
		last := first[len(first)-1]
		equal(t, must(s.DeleteEventsBefore(ctx, at(3*time.Hour), nil, 100))(t), 3) // hours 0, 1, 2: the last of the page among them
		next := must(s.ListEventsBefore(ctx, "m1", last.Time, last.ID, 4))(t)
		equal(t, len(next), 0)
		// A position inside what is left reads on as before.
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m1", first[0].Time, first[0].ID, 4))(t)), []string{ids[4], ids[3]})
	}},
	{"DeleteEventsBefore/refuses a limit that does not bound the call", func(t *testing.T, s storage.Store) {
		aged(t, s, "e", "m1", at(0), 1)
		if _, err := s.DeleteEventsBefore(t.Context(), at(time.Hour), nil, 0); err == nil {
			t.Error("limit 0: no error, want one")
		}
		equal(t, len(must(s.ListEvents(t.Context(), "m1", 0))(t)), 1)
	}},
}
