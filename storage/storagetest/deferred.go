package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

// deferredTests: under a deferred handoff (storage.WithDeferredHandoff) a
// backend may hold the request an HTTP request creates unstored until its
// code or the answer. Whatever it does, the HTTP request sees its own
// writes, and once the code is issued or the handoff flushed, everyone
// sees the request as that HTTP request left it; what it deleted or
// failed to issue never appears otherwise.
var deferredTests = []test{
	{"DeferredHandoff/created, completed and issued in one HTTP request: stored with its code", func(t *testing.T, s storage.Store) {
		ctx, r := storage.WithDeferredHandoff(t.Context()), authRequest("ar-1")
		ok(t, s.CreateAuthRequest(ctx, r))
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), r)
		done := loggedIn(r)
		ok(t, s.UpdateAuthRequest(ctx, r.ID, func(storage.AuthRequest) (storage.AuthRequest, error) { return done, nil }))
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), done)
		ok(t, s.IssueAuthCode(ctx, authCode("code-hash-1", r.ID), markIssued))
		want := done
		want.CodeIssued = true
		// From another HTTP request, before and after the flush.
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), want)
		ok(t, storage.FlushHandoff(ctx))
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), want)
		_, req, err := s.ClaimAuthCode(t.Context(), "code-hash-1", at(time.Second))
		ok(t, err)
		equal(t, req, want)
		// The request yields one code: a second issue is refused.
		isErr(t, s.IssueAuthCode(ctx, authCode("code-hash-2", r.ID), markIssued), storage.ErrNotFound)
	}},
	{"DeferredHandoff/flushed as the HTTP request's updates left it", func(t *testing.T, s storage.Store) {
		ctx, r := storage.WithDeferredHandoff(t.Context()), authRequest("ar-1")
		ok(t, s.CreateAuthRequest(ctx, r))
		bound := r
		bound.BrowserSession = "browser-1"
		ok(t, s.UpdateAuthRequest(ctx, r.ID, func(storage.AuthRequest) (storage.AuthRequest, error) { return bound, nil }))
		isErr(t, s.UpdateAuthRequest(ctx, r.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
			a.BrowserSession = "browser-2"
			return a, errBoom
		}), errBoom)
		ok(t, storage.FlushHandoff(ctx))
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), bound)
		// Stored now: a later update in the same HTTP request reaches it.
		ok(t, s.UpdateAuthRequest(ctx, r.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
			a.Done = true
			return a, nil
		}))
		bound.Done = true
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), bound)
	}},
	{"DeferredHandoff/deleted before the answer is never found", func(t *testing.T, s storage.Store) {
		ctx, r := storage.WithDeferredHandoff(t.Context()), authRequest("ar-1")
		ok(t, s.CreateAuthRequest(ctx, r))
		ok(t, s.DeleteAuthRequest(ctx, r.ID))
		ok(t, storage.FlushHandoff(ctx))
		_, err := s.AuthRequestByID(ctx, r.ID)
		isErr(t, err, storage.ErrNotFound)
		_, err = s.AuthRequestByID(t.Context(), r.ID)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeferredHandoff/a taken code key stores no code and leaves the request unmarked", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateAuthRequest(t.Context(), loggedIn(authRequest("other-request"))))
		ok(t, s.SaveAuthCode(t.Context(), authCode("taken", "other-request")))
		ctx, r := storage.WithDeferredHandoff(t.Context()), loggedIn(authRequest("ar-1"))
		ok(t, s.CreateAuthRequest(ctx, r))
		isErr(t, s.IssueAuthCode(ctx, authCode("taken", r.ID), markIssued), storage.ErrAlreadyExists)
		ok(t, storage.FlushHandoff(ctx)) // the answer (an error to the client) stores it as it is
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), r)
		c, _, err := s.PeekAuthCode(t.Context(), "taken", at(time.Second))
		ok(t, err)
		equal(t, c.AuthRequestID, "other-request")
	}},
	{"DeferredHandoff/an error from the issue's fn stores neither mark nor code", func(t *testing.T, s storage.Store) {
		ctx, r := storage.WithDeferredHandoff(t.Context()), loggedIn(authRequest("ar-1"))
		ok(t, s.CreateAuthRequest(ctx, r))
		isErr(t, s.IssueAuthCode(ctx, authCode("code-hash-1", r.ID), func(a storage.AuthRequest) (storage.AuthRequest, error) {
			a.CodeIssued = true
			return a, errBoom
		}), errBoom)
		_, _, err := s.PeekAuthCode(t.Context(), "code-hash-1", at(time.Second))
		isErr(t, err, storage.ErrNotFound)
		ok(t, storage.FlushHandoff(ctx))
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), r)
	}},
	{"DeferredHandoff/a code saved on its own finds its request stored", func(t *testing.T, s storage.Store) {
		ctx, r := storage.WithDeferredHandoff(t.Context()), loggedIn(authRequest("ar-1"))
		ok(t, s.CreateAuthRequest(ctx, r))
		ok(t, s.SaveAuthCode(ctx, authCode("code-hash-1", r.ID)))
		_, req, err := s.PeekAuthCode(t.Context(), "code-hash-1", at(time.Second))
		ok(t, err)
		equal(t, req, r)
	}},
}
