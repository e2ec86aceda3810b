package storage_test

import (
	"context"
	"errors"
	"testing"

	"tsubasa/storage"
)

// TestHandoffStaysInItsRequest checks what a handoff gives back: only the
// record of the id asked for, only under a context that carries one, and
// the last one handed off. Without WithHandoff nothing is kept, so a
// step outside an HTTP request that set one up always reads the store.
func TestHandoffStaysInItsRequest(t *testing.T) {
	bare := t.Context()
	storage.HandOffAuthRequest(bare, storage.AuthRequest{ID: "r1"})
	storage.HandOffSession(bare, storage.Session{ID: "s1"})
	if _, ok := storage.HandedAuthRequest(bare, "r1"); ok {
		t.Error("a context without a handoff gave back an auth request")
	}
	if _, ok := storage.HandedSessionClients(bare, "s1"); ok {
		t.Error("a context without a handoff gave back a session")
	}

	ctx := storage.WithHandoff(bare)
	if storage.WithHandoff(ctx) != ctx {
		t.Error("WithHandoff under a handoff started another, hiding what the request handed off")
	}
	if _, ok := storage.HandedAuthRequest(ctx, "r1"); ok {
		t.Error("an empty handoff gave back an auth request")
	}
	storage.HandOffAuthRequest(ctx, storage.AuthRequest{ID: "r1", ClientID: "a"})
	storage.HandOffAuthRequest(ctx, storage.AuthRequest{ID: "r1", ClientID: "b", Done: true, Scopes: []string{"openid"}})
	if r, ok := storage.HandedAuthRequest(ctx, "r1"); !ok || r.ClientID != "b" || !r.Done {
		t.Errorf("HandedAuthRequest(r1) = %+v, %v; want the last one handed off", r, ok)
	}
	r, _ := storage.HandedAuthRequest(ctx, "r1")
	r.Scopes = append(r.Scopes[:0], "changed by a consumer")
	r.AMR = []string{"x"}
	if again, _ := storage.HandedAuthRequest(ctx, "r1"); len(again.Scopes) != 1 || again.Scopes[0] != "openid" {
		t.Errorf("a consumer changed the handed-off request: scopes %v", again.Scopes)
	}
	if _, ok := storage.HandedAuthRequest(ctx, "r2"); ok {
		t.Error("the handoff gave back r1 for r2")
	}
	sess := storage.Session{ID: "s1", Clients: []string{"web"}}
	storage.HandOffSession(ctx, sess)
	sess.Clients[0] = "changed by the caller"
	if c, ok := storage.HandedSessionClients(ctx, "s1"); !ok || len(c) != 1 || c[0] != "web" {
		t.Errorf("HandedSessionClients(s1) = %v, %v; want [web], as read", c, ok)
	} else {
		c[0] = "changed by a consumer"
	}
	if c, _ := storage.HandedSessionClients(ctx, "s1"); c[0] != "web" {
		t.Errorf("a consumer changed the handed-off clients: %v", c)
	}
	if _, ok := storage.HandedSessionClients(ctx, "s2"); ok {
		t.Error("the handoff gave back s1 for s2")
	}
	// Another request's context shares nothing with this one.
	other := storage.WithHandoff(context.Background())
	if _, ok := storage.HandedAuthRequest(other, "r1"); ok {
		t.Error("another request's handoff gave back this one's auth request")
	}
}

// TestDeferredHandoffHoldsOnlyWhereTheOwnerFlushes: a backend may hold a
// new request unstored only under WithDeferredHandoff, whose owner
// flushes before answering; the flush stores the request as the
// backend's updates left it, once, and nothing after it was stored or
// dropped. A caller's hand-off never changes the held copy.
func TestDeferredHandoffHoldsOnlyWhereTheOwnerFlushes(t *testing.T) {
	var stored []storage.AuthRequest
	write := func(_ context.Context, r storage.AuthRequest) error {
		stored = append(stored, r)
		return nil
	}
	r1 := storage.AuthRequest{ID: "r1", ClientID: "web"}
	if storage.DeferAuthRequest(t.Context(), r1, write) {
		t.Error("held without a handoff: nobody would flush it")
	}
	if storage.DeferAuthRequest(storage.WithHandoff(t.Context()), r1, write) {
		t.Error("held under a plain handoff, whose owner does not flush")
	}
	if err := storage.FlushHandoff(t.Context()); err != nil {
		t.Errorf("flush without a handoff: %v", err)
	}

	ctx := storage.WithDeferredHandoff(t.Context())
	if !storage.DeferAuthRequest(ctx, r1, write) {
		t.Fatal("not held under a deferred handoff")
	}
	if storage.DeferAuthRequest(ctx, storage.AuthRequest{ID: "r2"}, write) {
		t.Error("a second request held while r1 is: one held request per HTTP request")
	}
	if got, ok := storage.UnstoredAuthRequest(ctx, "r1"); !ok || got.ClientID != "web" {
		t.Errorf("UnstoredAuthRequest(r1) = %+v, %v", got, ok)
	}
	if _, ok := storage.UnstoredAuthRequest(ctx, "r2"); ok {
		t.Error("r2 reported held")
	}
	storage.HandOffAuthRequest(ctx, storage.AuthRequest{ID: "r1", ClientID: "changed by a caller"})
	if !storage.UpdateUnstoredAuthRequest(ctx, storage.AuthRequest{ID: "r1", ClientID: "web", Done: true}) {
		t.Error("the backend's update of the held request was refused")
	}
	if storage.UpdateUnstoredAuthRequest(ctx, storage.AuthRequest{ID: "r2"}) {
		t.Error("an update of a request not held was taken")
	}
	if got, ok := storage.HandedAuthRequest(ctx, "r1"); !ok || got.ClientID != "web" || !got.Done {
		t.Errorf("HandedAuthRequest(r1) = %+v, %v; want the backend's update, not the caller's hand-off", got, ok)
	}
	if len(stored) != 0 {
		t.Fatalf("stored before the flush: %+v", stored)
	}
	if err := storage.FlushHandoff(ctx); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].ClientID != "web" || !stored[0].Done {
		t.Fatalf("flushed %+v, want r1 once as the backend's update left it", stored)
	}
	if _, ok := storage.UnstoredAuthRequest(ctx, "r1"); ok {
		t.Error("r1 still held after the flush")
	}
	if err := storage.FlushHandoff(ctx); err != nil || len(stored) != 1 {
		t.Errorf("a second flush: %v, stored %d times", err, len(stored))
	}

	// Another request stored while r1's successor is held leaves the held
	// one, which the flush still stores, as it is.
	ctx = storage.WithDeferredHandoff(t.Context())
	storage.DeferAuthRequest(ctx, storage.AuthRequest{ID: "r2", ClientID: "held"}, write)
	storage.AuthRequestStored(ctx, storage.AuthRequest{ID: "other", ClientID: "stored elsewhere"})
	if got, ok := storage.UnstoredAuthRequest(ctx, "r2"); !ok || got.ClientID != "held" {
		t.Errorf("after another request was stored, r2 held = %+v, %v; want it still held as it was", got, ok)
	}
	if err := storage.FlushHandoff(ctx); err != nil || len(stored) != 2 || stored[1].ID != "r2" || stored[1].ClientID != "held" {
		t.Errorf("flush after another request was stored: %v, stored %+v; want r2 as held", err, stored)
	}

	// Stored by the backend itself (with its code): the flush stores nothing.
	ctx = storage.WithDeferredHandoff(t.Context())
	storage.DeferAuthRequest(ctx, storage.AuthRequest{ID: "r3"}, write)
	storage.AuthRequestStored(ctx, storage.AuthRequest{ID: "r3", CodeIssued: true})
	if err := storage.FlushHandoff(ctx); err != nil || len(stored) != 2 {
		t.Errorf("flush after the backend stored r3: %v, %d stores", err, len(stored))
	}
	if got, ok := storage.HandedAuthRequest(ctx, "r3"); !ok || !got.CodeIssued {
		t.Errorf("HandedAuthRequest(r3) = %+v, %v; want it as stored", got, ok)
	}

	// Dropped (deleted before anyone knew of it): the flush stores nothing.
	ctx = storage.WithDeferredHandoff(t.Context())
	storage.DeferAuthRequest(ctx, storage.AuthRequest{ID: "r4"}, write)
	if storage.DropUnstoredAuthRequest(ctx, "r5") {
		t.Error("dropped r5, which is not held")
	}
	if !storage.DropUnstoredAuthRequest(ctx, "r4") {
		t.Error("r4 not dropped")
	}
	if err := storage.FlushHandoff(ctx); err != nil || len(stored) != 2 {
		t.Errorf("flush after r4 was dropped: %v, %d stores", err, len(stored))
	}
	if _, ok := storage.HandedAuthRequest(ctx, "r4"); ok {
		t.Error("a dropped request is still handed off")
	}

	// A failed store keeps the request held: the answer is an error page,
	// and nothing claims it was stored.
	ctx = storage.WithDeferredHandoff(t.Context())
	boom := errors.New("database unreachable")
	storage.DeferAuthRequest(ctx, storage.AuthRequest{ID: "r6"}, func(context.Context, storage.AuthRequest) error { return boom })
	if err := storage.FlushHandoff(ctx); !errors.Is(err, boom) {
		t.Errorf("flush: %v, want the store's error", err)
	}
	if _, ok := storage.UnstoredAuthRequest(ctx, "r6"); !ok {
		t.Error("r6 reported stored after its store failed")
	}
}
