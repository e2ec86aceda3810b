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
//
// A deferred handoff (WithDeferredHandoff) may also hold a request that
// this HTTP request created and has not stored yet, for a backend shared
// by several processes to store once, in its final state, instead of
// creating it and then updating it (DeferAuthRequest). That is safe
// because nobody else can know of the request before the HTTP request
// answers: its id is new and random, and the answer is the first place it
// appears. So the held copy is the whole truth about the request until
// then, and the handler that made the handoff flushes it (FlushHandoff)
// before the first byte of its answer, or answers with an error instead.
// A process that dies first loses a request nobody has heard of.
type handoff struct {
	mu          sync.Mutex
	req         AuthRequest
	hasReq      bool
	sessID      string
	sessClients []string
	hasSess     bool

	deferrable bool                                     // the owner flushes before answering
	unstored   bool                                     // req is created here, not yet stored
	write      func(context.Context, AuthRequest) error // stores an unstored req
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

// WithDeferredHandoff is WithHandoff for a handler that calls
// FlushHandoff before the first byte of its answer, and answers with an
// error if that fails: a backend may then defer the storing of a request
// this HTTP request creates (DeferAuthRequest). A handoff already in ctx
// is made deferrable.
func WithDeferredHandoff(ctx context.Context) context.Context {
	ctx = WithHandoff(ctx)
	h := ctx.Value(handoffKey{}).(*handoff)
	h.mu.Lock()
	h.deferrable = true
	h.mu.Unlock()
	return ctx
}

// DeferAuthRequest records r, which this HTTP request is creating, as not
// yet stored, when ctx's handoff is deferrable, and reports whether it
// did: then write stores it (as it then is) at FlushHandoff, unless the
// backend stores it first, in its final state, and says so with
// AuthRequestStored. Without a deferrable handoff, or with another
// request already held unstored, it records nothing: the caller stores r
// at once.
func DeferAuthRequest(ctx context.Context, r AuthRequest, write func(context.Context, AuthRequest) error) bool {
	h, ok := ctx.Value(handoffKey{}).(*handoff)
	if !ok || write == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.deferrable || h.unstored {
		return false
	}
	h.req, h.hasReq, h.unstored, h.write = r.Clone(), true, true, write
	return true
}

// UnstoredAuthRequest returns a copy of request id if this HTTP request
// created it and it is not stored yet (DeferAuthRequest).
func UnstoredAuthRequest(ctx context.Context, id string) (AuthRequest, bool) {
	return handedRequest(ctx, id, true)
}

// AuthRequestStored records that the backend has stored r: the request
// held unstored, if it is r, is no longer, and r is handed off as stored.
// Another request stored while one is held leaves the held one as it is.
func AuthRequestStored(ctx context.Context, r AuthRequest) {
	if h, ok := ctx.Value(handoffKey{}).(*handoff); ok {
		h.mu.Lock()
		if !h.unstored || h.req.ID == r.ID {
			h.req, h.hasReq, h.unstored, h.write = r.Clone(), true, false, nil
		}
		h.mu.Unlock()
	}
}

// withUnstored runs fn on ctx's handoff, locked, if it holds request id
// unstored, and reports whether it did.
func withUnstored(ctx context.Context, id string, fn func(h *handoff)) bool {
	h, ok := ctx.Value(handoffKey{}).(*handoff)
	if !ok {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.unstored || h.req.ID != id {
		return false
	}
	fn(h)
	return true
}

// DropUnstoredAuthRequest forgets request id if it is held unstored, and
// reports whether it was: it is deleted before anyone could know of it.
func DropUnstoredAuthRequest(ctx context.Context, id string) bool {
	return withUnstored(ctx, id, func(h *handoff) {
		h.req, h.hasReq, h.unstored, h.write = AuthRequest{}, false, false, nil
	})
}

// FlushHandoff stores the request ctx's handoff holds unstored, if any
// (DeferAuthRequest): the handler of a deferred handoff calls it before
// its answer starts. Without one it does nothing.
func FlushHandoff(ctx context.Context) error {
	h, ok := ctx.Value(handoffKey{}).(*handoff)
	if !ok {
		return nil
	}
	h.mu.Lock()
	if !h.unstored {
		h.mu.Unlock()
		return nil
	}
	r, write := h.req.Clone(), h.write
	h.mu.Unlock()
	// Outside the lock: write may hand off (AuthRequestStored).
	if err := write(ctx, r); err != nil {
		return err
	}
	AuthRequestStored(ctx, r)
	return nil
}

// HandOffAuthRequest records r as this HTTP request has just stored it.
// The handoff keeps its own copy: what the caller does with r afterwards
// does not change it. While a request is held unstored it does nothing:
// that copy changes only through the backend (UpdateUnstoredAuthRequest),
// so that what is flushed is what the backend's updates made.
func HandOffAuthRequest(ctx context.Context, r AuthRequest) {
	if h, ok := ctx.Value(handoffKey{}).(*handoff); ok {
		h.mu.Lock()
		if !h.unstored {
			h.req, h.hasReq = r.Clone(), true
		}
		h.mu.Unlock()
	}
}

// UpdateUnstoredAuthRequest replaces the copy of a request held unstored
// with r, the backend's update of it, and reports whether it held r's id.
func UpdateUnstoredAuthRequest(ctx context.Context, r AuthRequest) bool {
	return withUnstored(ctx, r.ID, func(h *handoff) { h.req = r.Clone() })
}

// HandedAuthRequest returns a copy of the authorization request id as
// this HTTP request last stored it, if it did.
func HandedAuthRequest(ctx context.Context, id string) (AuthRequest, bool) {
	return handedRequest(ctx, id, false)
}

// handedRequest returns a copy of the request ctx's handoff holds, if it
// is id's (and, with unstored, held unstored).
func handedRequest(ctx context.Context, id string, unstored bool) (AuthRequest, bool) {
	h, ok := ctx.Value(handoffKey{}).(*handoff)
	if !ok {
		return AuthRequest{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.hasReq || h.req.ID != id || unstored && !h.unstored {
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
