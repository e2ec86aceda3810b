package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
)

func TestRegistrationOptions(t *testing.T) {
	f := newFixture(t, nil)
	options, _, err := f.svc.BeginRegistration(t.Context(), f.alice)
	if err != nil {
		t.Fatal(err)
	}
	pk, ok := decode(t, options)["publicKey"].(map[string]any)
	if !ok {
		t.Fatalf("options are not {\"publicKey\": …}: %s", options)
	}
	sel := pk["authenticatorSelection"].(map[string]any)
	for key, want := range map[string]any{"residentKey": "required", "requireResidentKey": true, "userVerification": "required"} {
		if sel[key] != want {
			t.Errorf("authenticatorSelection.%s = %v, want %v", key, sel[key], want)
		}
	}
	if pk["attestation"] != "none" {
		t.Errorf("attestation = %v, want none", pk["attestation"])
	}
	if pk["timeout"] != float64(DefaultTimeout.Milliseconds()) {
		t.Errorf("timeout = %v, want %d", pk["timeout"], DefaultTimeout.Milliseconds())
	}
	rp := pk["rp"].(map[string]any)
	if rp["id"] != testRPID {
		t.Errorf("rp.id = %v", rp["id"])
	}
	u := pk["user"].(map[string]any)
	if u["name"] != f.alice.Number || u["displayName"] != "山田 花子" {
		t.Errorf("user = %v, want the member number and name", u)
	}
	if _, ok := pk["excludeCredentials"]; ok {
		t.Error("excludeCredentials present for a member without passkeys")
	}
}

func TestUserHandleAssignedOnce(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	if _, _, err := f.svc.BeginRegistration(ctx, f.alice); err != nil {
		t.Fatal(err)
	}
	m, err := f.store.MemberByID(ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.WebAuthnHandle) != 64 {
		t.Fatalf("handle is %d bytes, want 64", len(m.WebAuthnHandle))
	}
	if !m.UpdatedAt.Equal(f.alice.UpdatedAt) {
		t.Error("assigning the handle changed the profile's UpdatedAt")
	}
	// A stale copy of the member (without the handle) must not replace it.
	if _, _, err := f.svc.BeginRegistration(ctx, f.alice); err != nil {
		t.Fatal(err)
	}
	again, _ := f.store.MemberByID(ctx, f.alice.ID)
	if !bytes.Equal(again.WebAuthnHandle, m.WebAuthnHandle) {
		t.Fatal("the user handle changed on a second registration")
	}
	if got, err := f.store.MemberByWebAuthnHandle(ctx, m.WebAuthnHandle); err != nil || got.ID != f.alice.ID {
		t.Fatalf("MemberByWebAuthnHandle = %v, %v", got.ID, err)
	}
}

func TestRegisterStoresEveryField(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	options, state, err := f.svc.BeginRegistration(t.Context(), f.alice)
	if err != nil {
		t.Fatal(err)
	}
	resp := f.attest(t, d, options)
	// Browsers add transports next to the attestation object.
	var v map[string]any
	_ = json.Unmarshal(resp, &v)
	v["response"].(map[string]any)["transports"] = []string{"hybrid", "internal"}
	resp, _ = json.Marshal(v)

	p, err := f.svc.FinishRegistration(t.Context(), f.alice, state, resp, "  My phone  ", chromeUA)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.store.PasskeyByID(t.Context(), d.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !bytes.Equal(stored.ID, d.cred.ID):
		t.Error("credential id not stored")
	case stored.MemberID != f.alice.ID:
		t.Error("member not stored")
	case stored.Name != "My phone":
		t.Errorf("name %q, want trimmed \"My phone\"", stored.Name)
	case len(stored.PublicKey) == 0:
		t.Error("public key not stored")
	case !bytes.Equal(stored.AAGUID, d.auth.Aaguid[:]):
		t.Error("AAGUID not stored")
	case !stored.BackupEligible || !stored.BackupState || !IsSynced(stored):
		t.Error("backup flags not stored")
	case !stored.UserPresent || !stored.UserVerified:
		t.Error("UP/UV flags not stored")
	case !slices.Equal(stored.Transports, []string{"hybrid", "internal"}):
		t.Errorf("transports %v", stored.Transports)
	case !stored.CreatedAt.Equal(f.clock.Now()) || !stored.LastUsedAt.IsZero():
		t.Errorf("times created %v last used %v", stored.CreatedAt, stored.LastUsedAt)
	case !bytes.Equal(p.ID, stored.ID) || p.Name != stored.Name:
		t.Error("returned passkey differs from the stored one")
	}
	evs, err := f.store.ListEvents(t.Context(), f.alice.ID, 10)
	if err != nil || len(evs) != 1 || evs[0].Type != EventAdded || evs[0].Detail["name"] != "My phone" || evs[0].Method != Method {
		t.Fatalf("events = %+v, %v; want one %s", evs, err, EventAdded)
	}
}

func TestSecondRegistrationExcludesExisting(t *testing.T) {
	f := newFixture(t, nil)
	first := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, first, "")
	options, state, err := f.svc.BeginRegistration(t.Context(), f.alice)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if !first.cred.IsExcludedForAttestation(*opts) {
		t.Fatalf("excludeCredentials %v does not name the existing passkey", opts.ExcludeCredentials)
	}
	// A client ignoring the exclusion and sending the same credential again
	// is refused by the unique credential id.
	resp := []byte(virtualwebauthn.CreateAttestationResponse(f.rp, first.auth, first.cred, *opts))
	if _, err := f.svc.FinishRegistration(t.Context(), f.alice, state, resp, "", chromeUA); !errors.Is(err, ErrAlreadyRegistered) {
		t.Fatalf("re-registering the same credential: %v, want ErrAlreadyRegistered", err)
	}
	// Another authenticator registers fine.
	second := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, second, "")
	if ps, _ := f.svc.List(t.Context(), f.alice.ID); len(ps) != 2 {
		t.Fatalf("%d passkeys, want 2", len(ps))
	}
}

func TestRegistrationRefusals(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture) error
		want error
	}{
		{"no user verification", func(t *testing.T, f *fixture) error {
			d := newDevice(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
			options, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, f.attest(t, d, options), "", "")
			return err
		}, ErrUserVerification},
		{"state of another member", func(t *testing.T, f *fixture) error {
			d := newDevice(virtualwebauthn.AuthenticatorOptions{})
			options, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			_, err := f.svc.FinishRegistration(t.Context(), f.bob, state, f.attest(t, d, options), "", "")
			return err
		}, ErrStateMismatch},
		{"login state", func(t *testing.T, f *fixture) error {
			d := newDevice(virtualwebauthn.AuthenticatorOptions{})
			options, _, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			_, state, _ := f.svc.BeginLogin(t.Context())
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, f.attest(t, d, options), "", "")
			return err
		}, ErrStateMismatch},
		{"expired state", func(t *testing.T, f *fixture) error {
			d := newDevice(virtualwebauthn.AuthenticatorOptions{})
			options, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			f.clock.Advance(DefaultTimeout)
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, f.attest(t, d, options), "", "")
			return err
		}, ErrStateExpired},
		{"wrong origin", func(t *testing.T, f *fixture) error {
			d := newDevice(virtualwebauthn.AuthenticatorOptions{})
			options, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			f.rp.Origin = "https://id.sora-air.example.evil"
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, f.attest(t, d, options), "", "")
			return err
		}, ErrInvalid},
		{"credProps says not discoverable", func(t *testing.T, f *fixture) error {
			d := newDevice(virtualwebauthn.AuthenticatorOptions{})
			options, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			resp := withExtensions(t, f.attest(t, d, options), map[string]any{"credProps": map[string]any{"rk": false}})
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, resp, "", "")
			return err
		}, ErrInvalid},
		{"disabled member", func(t *testing.T, f *fixture) error {
			_, _, err := f.svc.BeginRegistration(t.Context(), f.disabled)
			return err
		}, ErrMemberInactive},
		{"name too long", func(t *testing.T, f *fixture) error {
			_, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, nil, strings.Repeat("あ", MaxNameLength+1), "")
			return err
		}, ErrName},
		{"garbage response", func(t *testing.T, f *fixture) error {
			_, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			_, err := f.svc.FinishRegistration(t.Context(), f.alice, state, []byte(`{"id":"x"}`), "", "")
			return err
		}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if err := tt.run(t, f); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if ps, _ := f.store.ListPasskeys(t.Context(), f.alice.ID); len(ps) != 0 {
				t.Fatal("a refused registration stored a passkey")
			}
		})
	}
}

func TestRegistrationStateSingleUse(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	options, state, err := f.svc.BeginRegistration(t.Context(), f.alice)
	if err != nil {
		t.Fatal(err)
	}
	resp := f.attest(t, d, options)
	f.clock.Advance(DefaultTimeout - time.Second) // just in time
	if _, err := f.svc.FinishRegistration(t.Context(), f.alice, state, resp, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishRegistration(t.Context(), f.alice, state, resp, "", ""); !errors.Is(err, ErrStateUsed) {
		t.Fatalf("second finish: %v, want ErrStateUsed", err)
	}
}

func TestRegistrationIgnoresUnsolicitedExtensions(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	options, state, err := f.svc.BeginRegistration(t.Context(), f.alice)
	if err != nil {
		t.Fatal(err)
	}
	// Chrome reports credProps on every create; password managers add
	// their own outputs.
	resp := withExtensions(t, f.attest(t, d, options), map[string]any{
		"credProps":       map[string]any{"rk": true},
		"x-vendor-output": map[string]any{"synced": true},
	})
	if _, err := f.svc.FinishRegistration(t.Context(), f.alice, state, resp, "", chromeUA); err != nil {
		t.Fatalf("unsolicited extension outputs failed the registration: %v", err)
	}
}

func TestDefaultNames(t *testing.T) {
	f := newFixture(t, nil)
	gpm := newDevice(virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	copy(gpm.auth.Aaguid[:], []byte{0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4})
	if p := f.register(t, f.alice, gpm, ""); p.Name != "Google Password Manager" {
		t.Errorf("known AAGUID named %q", p.Name)
	}
	if p := f.register(t, f.alice, newDevice(virtualwebauthn.AuthenticatorOptions{}), ""); p.Name != "Chrome on Windows" {
		t.Errorf("unknown AAGUID named %q, want the user agent's", p.Name)
	}
	if p := f.register(t, f.alice, newDevice(virtualwebauthn.AuthenticatorOptions{}), ""); p.Name != "Chrome on Windows (2)" {
		t.Errorf("second one named %q, want a numbered name", p.Name)
	}
	if p := f.register(t, f.bob, newDevice(virtualwebauthn.AuthenticatorOptions{}), ""); p.Name != "Chrome on Windows" {
		t.Errorf("another member's names must not count: %q", p.Name)
	}
	ps, _ := f.svc.List(t.Context(), f.alice.ID)
	for _, p := range ps {
		if p.MemberID != f.alice.ID {
			t.Fatal("List returned another member's passkey")
		}
	}
}
