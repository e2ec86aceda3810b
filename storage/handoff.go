package storage

import (
	"context"
	"slices"
	"sync"
)

// A handoff carries records from one step of an HTTP request to a later
// step of the same request, so that the later one need not read back from
// the database what the earlier one has just written or read. The login
// UI and the provider meet only in storage: on an SSO answer, the provider
// creates the authorization request inside /authorize, the login UI then
// checks it against the browser's session and completes it, and the
// provider answers it with a code, all within one HTTP request. On a
// backend shared by several replicas each of those reads is a round trip
// to the database.
//
// What a handoff may hold, and why that is safe:
//
//   - The authorization request as this HTTP request last wrote it
//     (created or updated it, and the write committed). A request's id is
//     new and unknown outside until this HTTP request answers, and later
//     changes to it come from the same browser's later requests; every
//     write that decides an outcome (the binding to a browser, the single
//     code) still reads the row under its lock, so a handed-off copy
//     never decides one by itself.
//   - The browser session as this HTTP request read it, for the clients it
//     lists: clients are only ever added to a session, so one listed when
//     it was read stays listed until the session ends.
//
// A handoff lives in one request's context and never outlives it: the next
// request of a flow may reach another replica, and reads the database.
// Without WithHandoff, Hand* do nothing and Handed* find nothing.
type handoff struct {
	mu          sync.Mutex
	req         AuthRequest
	hasReq      bool
	sessID      string
	sessClients []string
	hasSess     bool
}

type handoffKey struct{}

// WithHandoff returns ctx carrying an empty handoff, for the handler that
// starts an HTTP request; ctx itself when it carries one already.
func WithHandoff(ctx context.Context) context.Context {
	if _, ok := ctx.Value(handoffKey{}).(*handoff); ok {
		return ctx
	}
	return context.WithValue(ctx, handoffKey{}, &handoff{})
}

// HandOffAuthRequest records r as this HTTP request has just stored it.
// The handoff keeps its own copy: what the caller does with r afterwards
// does not change it.
func HandOffAuthRequest(ctx context.Context, r AuthRequest) {
	if h, ok := ctx.Value(handoffKey{}).(*handoff); ok {
		h.mu.Lock()
		h.req, h.hasReq = r.Clone(), true
		h.mu.Unlock()
	}
}

// HandedAuthRequest returns a copy of the authorization request id as
// this HTTP request last stored it, if it did.
func HandedAuthRequest(ctx context.Context, id string) (AuthRequest, bool) {
	h, ok := ctx.Value(handoffKey{}).(*handoff)
	if !ok {
		return AuthRequest{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.hasReq || h.req.ID != id {
		return AuthRequest{}, false
	}
	return h.req.Clone(), true
}

// HandOffSession records the clients session s listed when this HTTP
// request read it.
func HandOffSession(ctx context.Context, s Session) {
	if h, ok := ctx.Value(handoffKey{}).(*handoff); ok {
		h.mu.Lock()
		h.sessID, h.sessClients, h.hasSess = s.ID, slices.Clone(s.Clients), true
		h.mu.Unlock()
	}
}

// HandedSessionClients returns the clients session id listed when this
// HTTP request read it, if it did.
func HandedSessionClients(ctx context.Context, id string) ([]string, bool) {
	h, ok := ctx.Value(handoffKey{}).(*handoff)
	if !ok {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.hasSess || h.sessID != id {
		return nil, false
	}
	return slices.Clone(h.sessClients), true
}
