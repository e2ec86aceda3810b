package app

import (
	"context"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/postgres"
)

// The wrapper that wakes the worker keeps what others look for on the
// store (bolt's online backup), wakes it only for an event a
// subscription asks for, and only once the event is committed.
func TestWebhookKicksWakeForSubscribedEventsOnly(t *testing.T) {
	var kicks int
	st := withWebhookKicks(bolttest.Open(t, bolt.Options{}), func() { kicks++ })
	if _, ok := st.(backupper); !ok {
		t.Fatal("the wrapped bolt store lost its Backup")
	}
	if _, ok := st.(storage.ChangeNotifier); !ok {
		t.Fatal("the wrapped bolt store lost its change notifications (the provider's client cache and key ring)")
	}
	ctx := t.Context()
	if err := st.CreateWebhook(ctx, storage.Webhook{ID: "wh", URL: "https://crm.example/", Events: []string{"login.failed"},
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	event := func(id, typ string) storage.Event {
		return storage.Event{ID: id, Type: typ, MemberID: "m1", Time: time.Now()}
	}
	if err := st.AppendEvent(ctx, event("e1", "login.succeeded")); err != nil || kicks != 0 {
		t.Fatalf("an event nobody asked for: kicks %d, %v", kicks, err)
	}
	uctx, done := st.Begin(ctx)
	if err := st.AppendEvent(uctx, event("e2", "login.failed")); err != nil || kicks != 0 {
		t.Fatalf("a held event woke the worker before its commit: kicks %d, %v", kicks, err)
	}
	if err := done(); err != nil || kicks != 1 {
		t.Fatalf("after the commit: kicks %d, %v; want 1", kicks, err)
	}
	due, err := st.DueMessages(context.Background(), time.Now().Add(time.Minute), 0)
	if err != nil || len(due) != 1 || due[0].Channel != storage.ChannelWebhook {
		t.Fatalf("queued %+v, %v; want the one webhook message", due, err)
	}
}

// The wrapper keeps every optional capability that code elsewhere finds
// on the store by a type assertion: bolt's Backup (provider/admin's
// online backup), PostgreSQL's Ping (/readyz) and storage.Fresh
// (provider/fresh.go: the code exchange's reads past the replica's
// caches). Losing Fresh let a replica that had not heard of a logout mint
// tokens from the ended session's code (the replicas suite's
// TestReplicasCodeOfSessionEndedOnAnotherReplicaMintsNothing). The
// PostgreSQL store is a typed nil: only its type is looked at here.
func TestWebhookKicksKeepTheStoresCapabilities(t *testing.T) {
	var pg storage.Store = (*postgres.Store)(nil)
	wrapped := withWebhookKicks(pg, func() {})
	if _, ok := wrapped.(storage.Fresh); !ok {
		t.Error("the wrapped PostgreSQL store lost storage.Fresh")
	}
	if _, ok := wrapped.(storage.FreshPair); !ok {
		t.Error("the wrapped PostgreSQL store lost storage.FreshPair")
	}
	if _, ok := wrapped.(pinger); !ok {
		t.Error("the wrapped PostgreSQL store lost Ping")
	}
	if _, ok := wrapped.(storage.FreshCode); !ok {
		t.Error("the wrapped PostgreSQL store lost storage.FreshCode")
	}
	if _, ok := wrapped.(storage.CachedSessions); !ok {
		t.Error("the wrapped PostgreSQL store lost storage.CachedSessions")
	}
	b := withWebhookKicks(bolttest.Open(t, bolt.Options{}), func() {})
	if _, ok := b.(backupper); !ok {
		t.Error("the wrapped bolt store lost Backup")
	}
	if _, ok := b.(storage.Fresh); ok {
		t.Error("the wrapped bolt store claims storage.Fresh, which bolt does not have")
	}
}
