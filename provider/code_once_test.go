package provider

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// TestSecondCodeFromAStaleHandedOffRequestIsRefused: a request yields
// one code. The answer takes the request from the copy the login UI
// handed off within its HTTP request (storage.WithHandoff); a copy taken
// before the first code was issued still says no code was, and must not
// let a second one out: the mark is decided on the stored row, in the
// commit that would store the code.
func TestSecondCodeFromAStaleHandedOffRequestIsRefused(t *testing.T) {
	e := newWireEnv(t)
	first := e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	id, _, sealed := e.p.openCode(first)
	if !sealed {
		t.Fatal("the code carries no request")
	}
	stored, err := e.st.AuthRequestByID(t.Context(), id)
	if err != nil || !stored.CodeIssued {
		t.Fatalf("request after its code: %+v, %v; want CodeIssued", stored, err)
	}
	stale := stored
	stale.CodeIssued = false // as the login UI's complete handed it off
	ctx := storage.WithHandoff(context.Background())
	storage.HandOffAuthRequest(ctx, stale)

	second, err := e.p.op.Crypto().Encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	err = (&opStorage{e.p}).SaveAuthCode(ctx, id, second)
	var oerr *oidc.Error
	if !errors.As(err, &oerr) || oerr.ErrorType != oidc.InvalidRequest {
		t.Fatalf("second code from a stale copy: %v, want invalid_request (already answered)", err)
	}
	if rec := e.exchange(second, "web", wireRedirect); rec.Code != http.StatusBadRequest {
		t.Errorf("the second code's exchange: %d %s, want 400: it was never stored", rec.Code, rec.Body.String())
	}
	if rec := e.exchange(first, "web", wireRedirect); rec.Code != http.StatusOK {
		t.Errorf("the first code's exchange: %d %s, want 200", rec.Code, rec.Body.String())
	}
}
