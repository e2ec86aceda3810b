package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// markIssued is the provider's fn: a request yields one code only.
func markIssued(r storage.AuthRequest) (storage.AuthRequest, error) {
	if r.CodeIssued {
		return r, errBoom
	}
	r.CodeIssued = true
	return r, nil
}

// handedOff is ctx carrying a handoff (storage.WithHandoff) that holds r,
// as an HTTP request that has just stored r has it.
func handedOff(ctx context.Context, r storage.AuthRequest) context.Context {
	ctx = storage.WithHandoff(ctx)
	storage.HandOffAuthRequest(ctx, r)
	return ctx
}

var issueCodeTests = []test{
	{"IssueAuthCode/marks the request and stores the code in one commit", func(t *testing.T, s storage.Store) {
		ctx, r := t.Context(), loggedIn(authRequest("ar-1"))
		ok(t, s.CreateAuthRequest(ctx, r))
		ok(t, s.IssueAuthCode(ctx, authCode("code-hash-1", r.ID), markIssued))
		want := r
		want.CodeIssued = true
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), want)
		_, req, err := s.ClaimAuthCode(ctx, "code-hash-1", at(time.Second))
		ok(t, err)
		equal(t, req, want)
	}},
	{"IssueAuthCode/from a handed-off copy marks the request and stores the code", func(t *testing.T, s storage.Store) {
		r := loggedIn(authRequest("ar-1"))
		ctx := handedOff(t.Context(), r)
		ok(t, s.CreateAuthRequest(ctx, r))
		ok(t, s.IssueAuthCode(ctx, authCode("code-hash-1", r.ID), markIssued))
		want := r
		want.CodeIssued = true
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), want)
		_, req, err := s.ClaimAuthCode(t.Context(), "code-hash-1", at(time.Second))
		ok(t, err)
		equal(t, req, want)
	}},
	{"IssueAuthCode/error from fn stores neither the mark nor the code", func(t *testing.T, s storage.Store) {
		ctx, r := t.Context(), loggedIn(authRequest("ar-1"))
		ok(t, s.CreateAuthRequest(ctx, r))
		err := s.IssueAuthCode(ctx, authCode("code-hash-1", r.ID), func(a storage.AuthRequest) (storage.AuthRequest, error) {
			a.CodeIssued = true
			return a, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), r)
		_, _, err = s.PeekAuthCode(ctx, "code-hash-1", at(time.Second))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"IssueAuthCode/unknown request returns ErrNotFound and stores no code", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		isErr(t, s.IssueAuthCode(ctx, authCode("code-hash-1", "nope"), markIssued), storage.ErrNotFound)
		_, _, err := s.PeekAuthCode(ctx, "code-hash-1", at(time.Second))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"IssueAuthCode/a taken code key returns ErrAlreadyExists and leaves the request unmarked", func(t *testing.T, s storage.Store) {
		for _, handoff := range []bool{false, true} {
			t.Run(fmt.Sprintf("handoff=%v", handoff), func(t *testing.T) {
				ctx, r := t.Context(), loggedIn(authRequest(fmt.Sprintf("ar-%v", handoff)))
				if handoff {
					ctx = handedOff(ctx, r)
				}
				ok(t, s.CreateAuthRequest(ctx, r))
				hash := fmt.Sprintf("taken-%v", handoff)
				ok(t, s.SaveAuthCode(t.Context(), authCode(hash, "other-request")))
				isErr(t, s.IssueAuthCode(ctx, authCode(hash, r.ID), markIssued), storage.ErrAlreadyExists)
				equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), r)
			})
		}
	}},
	{"IssueAuthCode/a handed-off copy older than the row never overwrites what was stored after it", func(t *testing.T, s storage.Store) {
		r := loggedIn(authRequest("ar-1"))
		ctx := handedOff(t.Context(), r)
		ok(t, s.CreateAuthRequest(ctx, r))
		ok(t, s.UpdateAuthRequest(t.Context(), r.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
			a.IDTokenClaims = append(a.IDTokenClaims, "later") // another request's write
			return a, nil
		}))
		ok(t, s.IssueAuthCode(ctx, authCode("code-hash-1", r.ID), markIssued))
		got := must(s.AuthRequestByID(t.Context(), r.ID))(t)
		if !got.CodeIssued || len(got.IDTokenClaims) != 3 {
			t.Fatalf("request after the issue: CodeIssued %v, IDTokenClaims %v; want the mark and the later write both", got.CodeIssued, got.IDTokenClaims)
		}
	}},
	{"IssueAuthCode/50 concurrent issuers, each from a handed-off copy: exactly one code", func(t *testing.T, s storage.Store) {
		r := loggedIn(authRequest("ar-1"))
		ok(t, s.CreateAuthRequest(t.Context(), r))
		errs := race(50, func(i int) error {
			return s.IssueAuthCode(handedOff(t.Context(), r), authCode(fmt.Sprintf("code-hash-%d", i), r.ID), markIssued)
		})
		wins := 0
		for i, err := range errs {
			_, _, perr := s.PeekAuthCode(t.Context(), fmt.Sprintf("code-hash-%d", i), at(time.Second))
			if err == nil {
				wins++
				ok(t, perr)
				continue
			}
			isErr(t, err, errBoom)
			isErr(t, perr, storage.ErrNotFound)
		}
		if wins != 1 {
			t.Fatalf("%d issuers stored a code, want exactly 1", wins)
		}
	}},
}
