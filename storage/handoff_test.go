package storage_test

import (
	"context"
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
	if _, ok := storage.HandedSession(bare, "s1"); ok {
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
	storage.HandOffAuthRequest(ctx, storage.AuthRequest{ID: "r1", ClientID: "b", Done: true})
	if r, ok := storage.HandedAuthRequest(ctx, "r1"); !ok || r.ClientID != "b" || !r.Done {
		t.Errorf("HandedAuthRequest(r1) = %+v, %v; want the last one handed off", r, ok)
	}
	if _, ok := storage.HandedAuthRequest(ctx, "r2"); ok {
		t.Error("the handoff gave back r1 for r2")
	}
	storage.HandOffSession(ctx, storage.Session{ID: "s1", Clients: []string{"web"}})
	if s, ok := storage.HandedSession(ctx, "s1"); !ok || len(s.Clients) != 1 {
		t.Errorf("HandedSession(s1) = %+v, %v", s, ok)
	}
	if _, ok := storage.HandedSession(ctx, "s2"); ok {
		t.Error("the handoff gave back s1 for s2")
	}
	// Another request's context shares nothing with this one.
	other := storage.WithHandoff(context.Background())
	if _, ok := storage.HandedAuthRequest(other, "r1"); ok {
		t.Error("another request's handoff gave back this one's auth request")
	}
}
