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
