package notify

import (
	"context"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// A member's ordered messages (webhooks) go out in order and all in one
// round, though each claim hands out only the first of the key: the
// round keeps claiming while it sends ordered messages. A message that
// fails for good lets the next of its key go.
func TestWorkerSendsAnOrderKeyInOrderInOneRound(t *testing.T) {
	store := bolttest.Open(t, bolt.Options{})
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var sent []string
	deliver := func(_ context.Context, m OutboxMessage) error {
		sent = append(sent, m.ID)
		if m.ID == "a2" {
			return Permanent(errTemp)
		}
		return nil
	}
	var dead []string
	w := NewOutboxWorker(store, nil, nil, WorkerOptions{
		Now:        func() time.Time { return now },
		Deliverers: map[string]Deliverer{storage.ChannelWebhook: deliver},
		DeadLetter: func(_ context.Context, m OutboxMessage) { dead = append(dead, m.ID) },
	})
	for i, id := range []string{"a1", "a2", "a3", "a4"} {
		at := now.Add(time.Duration(i-10) * time.Second)
		if err := store.EnqueueMessage(t.Context(), OutboxMessage{ID: id, Channel: storage.ChannelWebhook, To: "wh",
			State: StatePending, NextAttemptAt: at, CreatedAt: at, OrderKey: "wh/m1"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := w.RunOnce(t.Context()); err != nil || n != 4 {
		t.Fatalf("RunOnce = %d, %v; want 4 tried", n, err)
	}
	if want := []string{"a1", "a2", "a3", "a4"}; len(sent) != 4 || sent[0] != want[0] || sent[1] != want[1] || sent[2] != want[2] || sent[3] != want[3] {
		t.Fatalf("sent %v, want %v", sent, want)
	}
	if len(dead) != 1 || dead[0] != "a2" {
		t.Fatalf("dead letters %v, want [a2]", dead)
	}
}
