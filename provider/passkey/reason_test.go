package passkey

import (
	"errors"
	"fmt"
	"testing"

	"github.com/descope/virtualwebauthn"
)

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: flag", ErrUserVerification), "user_not_verified"},
		{fmt.Errorf("%w: gone", ErrUnknownCredential), "unknown_credential"},
		{fmt.Errorf("%w: 3 then 2", ErrCloned), "sign_count"},
		{ErrMemberInactive, "inactive"},
		{ErrStateExpired, "expired"},
		{ErrStateUsed, "replayed"},
		{invalid("verify login", errors.New("bad signature")), "invalid"},
		{errors.New("disk on fire"), "error"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestClaimant(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	if _, ok := f.svc.Claimant(ctx, []byte(`{"garbage":true}`)); ok {
		t.Error("garbage names a member")
	}
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	// A response the service refuses still names its member, for the history.
	d.auth.Options.UserNotVerified = true
	options, state, err := f.svc.BeginLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp := f.assert(t, d, options)
	if _, _, _, err := f.svc.FinishLogin(ctx, state, resp); !errors.Is(err, ErrUserVerification) {
		t.Fatalf("FinishLogin without UV: %v", err)
	}
	if m, ok := f.svc.Claimant(ctx, resp); !ok || m.ID != f.alice.ID {
		t.Errorf("Claimant = %v %v, want alice", m.ID, ok)
	}
}
