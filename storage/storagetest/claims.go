package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

// dueSet enqueues the messages of the DueMessages case: due at at(0) in
// the order p2a, p2b, p1, now; late is due a minute later; sent and failed
// never are.
func dueSet(t *testing.T, s storage.Store) {
	t.Helper()
	for _, m := range []storage.OutboxMessage{
		message("late", storage.OutboxPending, at(time.Minute), at(-time.Hour)),
		message("p1", storage.OutboxPending, at(-time.Minute), at(-10*time.Minute)),
		message("now", storage.OutboxPending, at(0), at(-time.Hour)),
		message("p2b", storage.OutboxPending, at(-5*time.Minute), at(-5*time.Minute)),
		message("p2a", storage.OutboxPending, at(-5*time.Minute), at(-6*time.Minute)),
		message("sent", storage.OutboxSent, at(-time.Hour), at(-time.Hour)),
		message("failed", storage.OutboxFailed, at(-time.Hour), at(-time.Hour)),
	} {
		ok(t, s.EnqueueMessage(t.Context(), m))
	}
}

var claimTests = []test{
	{"ClaimDueMessages/returns what DueMessages would, leased until leaseUntil, as stored", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		dueSet(t, s)
		lease := at(5 * time.Minute).In(tokyo())
		got := must(s.ClaimDueMessages(ctx, at(0), 2, lease))(t)
		equal(t, messageIDs(got), []string{"p2a", "p2b"})
		for _, m := range got {
			utcOnly(t, m)
			equal(t, m.NextAttemptAt, at(5*time.Minute))
			equal(t, m, must(s.OutboxMessageByID(ctx, m.ID))(t))
		}
		want := message("p2a", storage.OutboxPending, at(5*time.Minute), at(-6*time.Minute))
		equal(t, got[0], want) // only NextAttemptAt moved
		// Not due again before the lease ends; due again at its end.
		equal(t, messageIDs(must(s.DueMessages(ctx, at(0), 10))(t)), []string{"p1", "now"})
		equal(t, messageIDs(must(s.ClaimDueMessages(ctx, at(0), 0, lease))(t)), []string{"p1", "now"})
		equal(t, messageIDs(must(s.ClaimDueMessages(ctx, at(time.Minute), 10, lease))(t)), []string{"late"})
		// All leased to the same instant: by CreatedAt, then id.
		equal(t, messageIDs(must(s.DueMessages(ctx, at(5*time.Minute), 10))(t)), []string{"late", "now", "p1", "p2a", "p2b"})
	}},
	{"ClaimDueMessages/nothing due claims nothing", func(t *testing.T, s storage.Store) {
		dueSet(t, s)
		equal(t, len(must(s.ClaimDueMessages(t.Context(), at(-time.Hour), 10, at(time.Hour)))(t)), 0)
		equal(t, len(must(s.DueMessages(t.Context(), at(0), 10))(t)), 4)
	}},
	{"ClaimDueMessages/a lease that ends at or before now is refused and claims nothing", func(t *testing.T, s storage.Store) {
		dueSet(t, s)
		for _, lease := range []time.Time{at(0), at(-time.Minute)} {
			_, err := s.ClaimDueMessages(t.Context(), at(0), 10, lease)
			notNil(t, err, "ClaimDueMessages with a lease ending at or before now")
		}
		equal(t, messageIDs(must(s.DueMessages(t.Context(), at(0), 10))(t)), []string{"p2a", "p2b", "p1", "now"})
	}},
	{"ClaimDueMessages/10 concurrent workers claim each of 20 due messages exactly once", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		var all []string
		for i := range 20 {
			m := message(fmt.Sprintf("m%02d", i), storage.OutboxPending, at(-time.Duration(i)*time.Second), at(-time.Hour))
			ok(t, s.EnqueueMessage(ctx, m))
			all = append(all, m.ID)
		}
		claimed := make([][]storage.OutboxMessage, 10)
		errs := race(10, func(i int) error {
			var err error
			claimed[i], err = s.ClaimDueMessages(ctx, at(0), 3, at(time.Hour))
			return err
		})
		ok(t, errors.Join(errs...))
		var got []string
		for _, ms := range claimed {
			got = append(got, messageIDs(ms)...)
		}
		slices.Sort(got)
		// Room for 30: every message is claimed, none twice.
		equal(t, got, all)
		equal(t, len(must(s.DueMessages(ctx, at(0), 0))(t)), 0)
	}},
}
