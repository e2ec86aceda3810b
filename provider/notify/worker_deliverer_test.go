package notify

import (
	"context"
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
)

// A channel with a Deliverer goes to it, is retried on a temporary error
// and, once it fails for good, reaches DeadLetter exactly once.
func TestWorkerDeliverersRetryThenDeadLetter(t *testing.T) {
	var calls int
	var dead []OutboxMessage
	deliver := func(_ context.Context, m OutboxMessage) error {
		calls++
		if m.To != "app-1" {
			return Permanent(errors.New("wrong message"))
		}
		return errTemp
	}
	w, store, clock, _ := newTestWorker(t, nil, nil, WorkerOptions{
		MaxAttempts: 2,
		Deliverers:  map[string]Deliverer{storage.ChannelBackchannelLogout: deliver},
		DeadLetter:  func(_ context.Context, m OutboxMessage) { dead = append(dead, m) },
	})
	m := store.add(OutboxMessage{ID: "bcl-1", Channel: storage.ChannelBackchannelLogout, To: "app-1",
		Text: `{"member_id":"m1","sid":"s1"}`, State: StatePending, NextAttemptAt: clock.Now(), CreatedAt: clock.Now()})

	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(m.ID); got.State != StatePending || got.Attempts != 1 || len(dead) != 0 {
		t.Fatalf("after a temporary failure: %+v, dead letters %d; want pending, one attempt, none", got, len(dead))
	}
	clock.Advance(time.Hour)
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := store.get(m.ID)
	if got.State != StateFailed || calls != 2 {
		t.Fatalf("after the last attempt: %+v after %d calls; want failed after 2", got, calls)
	}
	if len(dead) != 1 || dead[0].ID != m.ID || dead[0].State != StateFailed {
		t.Fatalf("dead letters %+v; want the failed record once", dead)
	}
	clock.Advance(time.Hour)
	if _, err := w.RunOnce(t.Context()); err != nil || calls != 2 || len(dead) != 1 {
		t.Fatalf("a failed message was tried again (%d calls, %d dead letters, %v)", calls, len(dead), err)
	}
}

// A channel nobody delivers fails for good at once, never loops.
func TestWorkerUnknownChannelFailsForGood(t *testing.T) {
	var dead int
	w, store, clock, _ := newTestWorker(t, nil, nil, WorkerOptions{
		DeadLetter: func(context.Context, OutboxMessage) { dead++ },
	})
	m := store.add(OutboxMessage{ID: "x-1", Channel: "carrier_pigeon", To: "app-1", State: StatePending,
		NextAttemptAt: clock.Now(), CreatedAt: clock.Now()})
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(m.ID); got.State != StateFailed || got.Attempts != 1 || dead != 1 {
		t.Fatalf("%+v, %d dead letters; want failed on the first attempt, one dead letter", got, dead)
	}
}
