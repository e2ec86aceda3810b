package postgres_test

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

var errForeign = errors.New("bound to another browser")

// bind is the login UI's binding: refused when another browser has the
// request already.
func bind(browser string) func(storage.AuthRequest) (storage.AuthRequest, error) {
	return func(r storage.AuthRequest) (storage.AuthRequest, error) {
		if r.BrowserSession != "" && r.BrowserSession != browser {
			return r, errForeign
		}
		r.BrowserSession, r.Done = browser, true
		return r, nil
	}
}

// An update of an authorization request from the copy this HTTP request
// handed off (storage.WithHandoff) is a compare-and-swap: it writes fn's
// result when the row is still the copy, and when another replica changed
// the row after the copy was taken, the change is kept and fn decides on
// the row as it now is (here: another browser's binding refuses this
// one). The copy never overwrites what it has not seen.
func TestAuthRequestUpdateFromAHandedOffCopyNeverOverwritesAnotherWrite(t *testing.T) {
	a, b := twoReplicas(t, postgres.Options{})
	now := time.Now().UTC()
	ctx := storage.WithHandoff(t.Context())
	r := storage.AuthRequest{ID: "req-1", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := a.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, ok := storage.HandedAuthRequest(ctx, r.ID); !ok {
		t.Fatal("CreateAuthRequest handed off nothing: this test no longer plays the swap")
	}

	// Another browser binds it on the other replica, after the handoff.
	if err := b.UpdateAuthRequest(t.Context(), r.ID, bind("other-browser")); err != nil {
		t.Fatal(err)
	}
	err := a.UpdateAuthRequest(ctx, r.ID, bind("this-browser"))
	if !errors.Is(err, errForeign) {
		t.Errorf("update from a stale handed-off copy: %v, want fn's refusal on the row as it is", err)
	}
	got, err := b.AuthRequestByID(t.Context(), r.ID)
	if err != nil || got.BrowserSession != "other-browser" {
		t.Errorf("the other browser's binding: %+v, %v; want it kept", got, err)
	}

	// A fresh copy swaps: fn's result is stored, and handed off in turn.
	r2 := storage.AuthRequest{ID: "req-2", ClientID: "web", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := a.CreateAuthRequest(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateAuthRequest(ctx, r2.ID, bind("this-browser")); err != nil {
		t.Fatal(err)
	}
	got, err = b.AuthRequestByID(t.Context(), r2.ID)
	if err != nil || got.BrowserSession != "this-browser" || !got.Done || got.ClientID != "web" {
		t.Errorf("after the swap the row is %+v, %v; want fn's result", got, err)
	}
	if h, ok := storage.HandedAuthRequest(ctx, r2.ID); !ok || h.BrowserSession != "this-browser" {
		t.Errorf("handed off after the swap: %+v, %v; want the stored record", h, ok)
	}
	// The next update in the same request starts from that copy, and a
	// deleted row is not brought back by it.
	if err := b.DeleteAuthRequest(t.Context(), r2.ID); err != nil {
		t.Fatal(err)
	}
	err = a.UpdateAuthRequest(ctx, r2.ID, func(r storage.AuthRequest) (storage.AuthRequest, error) { r.CodeIssued = true; return r, nil })
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("update of a deleted request from its handed-off copy: %v, want ErrNotFound", err)
	}
	if _, err := b.AuthRequestByID(t.Context(), r2.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the deleted request came back: %v", err)
	}
}
