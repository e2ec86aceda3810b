package passkey

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

func TestLoginOptions(t *testing.T) {
	f := newFixture(t, nil)
	options, state, err := f.svc.BeginLogin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pk, ok := decode(t, options)["publicKey"].(map[string]any)
	if !ok {
		t.Fatalf("options are not {\"publicKey\": …}: %s", options)
	}
	if pk["userVerification"] != "required" || pk["rpId"] != testRPID {
		t.Errorf("options %v", pk)
	}
	if ac, ok := pk["allowCredentials"].([]any); ok && len(ac) > 0 {
		t.Errorf("allowCredentials %v, want none for a discoverable login", ac)
	}
	if _, ok := decode(t, options)["mediation"]; ok {
		t.Error("mediation is the page's choice")
	}
	if state == "" {
		t.Error("empty state")
	}
}

func TestRegisterThenLogin(t *testing.T) {
	tests := []struct {
		name    string
		opts    virtualwebauthn.AuthenticatorOptions
		wantAMR []string
		synced  bool
	}{
		{"device-bound", virtualwebauthn.AuthenticatorOptions{}, []string{"hwk", "user"}, false},
		{"synced", virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true}, []string{"swk", "user"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			d := newDevice(tt.opts)
			f.register(t, f.alice, d, "")
			f.clock.Advance(time.Hour)
			m, p, amr, err := f.login(t, d)
			if err != nil {
				t.Fatal(err)
			}
			if m.ID != f.alice.ID {
				t.Fatalf("logged in %q, want %q", m.ID, f.alice.ID)
			}
			if !slices.Equal(amr, tt.wantAMR) {
				t.Errorf("amr %v, want %v", amr, tt.wantAMR)
			}
			if !acr.Satisfies(ACR, acr.PhishingResistant) {
				t.Error("a passkey login must satisfy phr")
			}
			if IsSynced(p) != tt.synced {
				t.Errorf("IsSynced = %v", IsSynced(p))
			}
			stored, _ := f.store.PasskeyByID(t.Context(), d.cred.ID)
			if !stored.LastUsedAt.Equal(f.clock.Now()) {
				t.Errorf("LastUsedAt %v, want %v", stored.LastUsedAt, f.clock.Now())
			}
		})
	}
}

func TestConditionalMediationLogin(t *testing.T) {
	// Conditional mediation changes only how the browser asks; the options
	// and the response are the same, so the page adds mediation itself.
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	options, state, err := f.svc.BeginLogin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, f.assert(t, d, options)); err != nil {
		t.Fatal(err)
	}
}

func TestLoginRefusals(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture, d *device) error
		want error
	}{
		{"no user verification", func(t *testing.T, f *fixture, d *device) error {
			d.auth.Options.UserNotVerified = true
			_, _, _, err := f.login(t, d)
			return err
		}, ErrUserVerification},
		{"unknown credential", func(t *testing.T, f *fixture, d *device) error {
			stranger := newDevice(virtualwebauthn.AuthenticatorOptions{UserHandle: d.auth.Options.UserHandle})
			_, _, _, err := f.login(t, stranger)
			return err
		}, ErrUnknownCredential},
		{"unknown user handle", func(t *testing.T, f *fixture, d *device) error {
			d.auth.Options.UserHandle = randomBytes(64)
			_, _, _, err := f.login(t, d)
			return err
		}, ErrUnknownCredential},
		{"no user handle", func(t *testing.T, f *fixture, d *device) error {
			d.auth.Options.UserHandle = nil
			_, _, _, err := f.login(t, d)
			return err
		}, ErrInvalid},
		{"another member's handle", func(t *testing.T, f *fixture, d *device) error {
			f.register(t, f.bob, newDevice(virtualwebauthn.AuthenticatorOptions{}), "")
			bob, _ := f.store.MemberByID(t.Context(), f.bob.ID)
			d.auth.Options.UserHandle = bob.WebAuthnHandle
			_, _, _, err := f.login(t, d)
			return err
		}, ErrUnknownCredential},
		{"expired state", func(t *testing.T, f *fixture, d *device) error {
			options, state, _ := f.svc.BeginLogin(t.Context())
			f.clock.Advance(DefaultTimeout)
			_, _, _, err := f.svc.FinishLogin(t.Context(), state, f.assert(t, d, options))
			return err
		}, ErrStateExpired},
		{"registration state", func(t *testing.T, f *fixture, d *device) error {
			options, _, _ := f.svc.BeginLogin(t.Context())
			_, state, _ := f.svc.BeginRegistration(t.Context(), f.alice)
			_, _, _, err := f.svc.FinishLogin(t.Context(), state, f.assert(t, d, options))
			return err
		}, ErrStateMismatch},
		{"challenge of another ceremony", func(t *testing.T, f *fixture, d *device) error {
			options, _, _ := f.svc.BeginLogin(t.Context())
			_, state, _ := f.svc.BeginLogin(t.Context())
			_, _, _, err := f.svc.FinishLogin(t.Context(), state, f.assert(t, d, options))
			return err
		}, ErrInvalid},
		{"wrong RP ID", func(t *testing.T, f *fixture, d *device) error {
			f.rp.ID = "sora-air.example"
			_, _, _, err := f.login(t, d)
			return err
		}, ErrInvalid},
		{"tampered state", func(t *testing.T, f *fixture, d *device) error {
			_, _, _, err := f.svc.FinishLogin(t.Context(), "p1.bm90IGpzb24", nil)
			return err
		}, ErrInvalid},
		{"disabled member", func(t *testing.T, f *fixture, d *device) error {
			_ = f.store.UpdateMember(t.Context(), f.alice.ID, func(m storage.Member) (storage.Member, error) {
				m.Status = storage.MemberDisabled
				return m, nil
			})
			_, _, _, err := f.login(t, d)
			return err
		}, ErrMemberInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			d := newDevice(virtualwebauthn.AuthenticatorOptions{})
			before := f.register(t, f.alice, d, "")
			if err := tt.run(t, f, d); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			after, _ := f.store.PasskeyByID(t.Context(), d.cred.ID)
			if !after.LastUsedAt.Equal(before.LastUsedAt) {
				t.Error("a refused login updated the passkey")
			}
		})
	}
}

func TestFailedLoginReturnsNothing(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	d.auth.Options.UserNotVerified = true
	m, p, amr, err := f.login(t, d)
	if err == nil || m.ID != "" || p.ID != nil || amr != nil {
		t.Fatalf("failed login returned %q, %x, %v, %v", m.ID, p.ID, amr, err)
	}
}

func TestLoginStateSingleUse(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	options, state, _ := f.svc.BeginLogin(t.Context())
	resp := f.assert(t, d, options)
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, resp); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, resp); !errors.Is(err, ErrStateUsed) {
		t.Fatalf("replayed login: %v, want ErrStateUsed", err)
	}
}

func TestSignCount(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	steps := []struct {
		counter uint32
		want    error
		stored  uint32
	}{
		{5, nil, 5},
		{9, nil, 9},
		{3, ErrCloned, 9}, // backwards
		{9, ErrCloned, 9}, // not forward
		{0, nil, 9},       // an authenticator that stopped counting is not a clone
		{10, nil, 10},
	}
	for _, s := range steps {
		d.cred.Counter = s.counter
		_, _, _, err := f.login(t, d)
		if !errors.Is(err, s.want) {
			t.Fatalf("counter %d: error %v, want %v", s.counter, err, s.want)
		}
		p, _ := f.store.PasskeyByID(t.Context(), d.cred.ID)
		if p.SignCount != s.stored {
			t.Fatalf("counter %d: stored %d, want %d", s.counter, p.SignCount, s.stored)
		}
	}
}

func TestBackupStateFollowsLogins(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{BackupEligible: true})
	p := f.register(t, f.alice, d, "")
	if !p.BackupEligible || IsSynced(p) {
		t.Fatalf("registered BE=%v synced=%v, want eligible, not yet synced", p.BackupEligible, IsSynced(p))
	}
	d.auth.Options.BackupState = true // the provider has synced it since
	_, p, amr, err := f.login(t, d)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.store.PasskeyByID(t.Context(), d.cred.ID)
	if !IsSynced(p) || !IsSynced(stored) {
		t.Error("backup state not updated after login")
	}
	if !slices.Equal(amr, []string{"swk", "user"}) {
		t.Errorf("amr %v", amr)
	}
	// The eligibility flag never changes; a response claiming otherwise is
	// refused.
	d.auth.Options.BackupEligible, d.auth.Options.BackupState = false, false
	if _, _, _, err := f.login(t, d); !errors.Is(err, ErrInvalid) {
		t.Fatalf("backup eligibility flipped: %v, want ErrInvalid", err)
	}
}

func TestLoginIgnoresUnsolicitedExtensions(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	options, state, _ := f.svc.BeginLogin(t.Context())
	resp := withExtensions(t, f.assert(t, d, options), map[string]any{
		"credProps":       map[string]any{"rk": true},
		"x-vendor-output": "yes",
	})
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, resp); err != nil {
		t.Fatalf("unsolicited extension outputs failed the login: %v", err)
	}
}

func TestConcurrentLoginsSameCounter(t *testing.T) {
	// Two assertions carrying the same counter (a clone racing the
	// original): the check runs inside the storage update, so exactly one
	// wins whatever the interleaving.
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	d.cred.Counter = 7
	const n = 8
	states, responses := make([]string, n), make([][]byte, n)
	for i := range n {
		options, state, _ := f.svc.BeginLogin(t.Context())
		states[i], responses[i] = state, f.assert(t, d, options)
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, _, _, err := f.svc.FinishLogin(t.Context(), states[i], responses[i])
			errs <- err
		}()
	}
	ok := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case !errors.Is(err, ErrCloned):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d logins succeeded with the same counter, want 1", ok)
	}
}
