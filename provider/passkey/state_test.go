package passkey

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
)

func sealedOptions(o *Options) { o.StateKey = bytes.Repeat([]byte{7}, 32) }

func TestSealedState(t *testing.T) {
	f := newFixture(t, sealedOptions)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")

	options, state, err := f.svc.BeginLogin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(state, sealedPrefix) {
		t.Fatalf("state %q is not sealed", state)
	}
	// Flip one character of the ciphertext.
	b := []byte(state)
	i := len(sealedPrefix) + 20
	b[i] ^= 1
	if _, _, _, err := f.svc.FinishLogin(t.Context(), string(b), f.assert(t, d, options)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered sealed state: %v, want ErrInvalid", err)
	}
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, f.assert(t, d, options)); err != nil {
		t.Fatalf("sealed state: %v", err)
	}
}

func TestStateFormatsDoNotMix(t *testing.T) {
	plain := newFixture(t, nil)
	sealed := newFixture(t, sealedOptions)
	_, p, _ := plain.svc.BeginLogin(t.Context())
	_, s, _ := sealed.svc.BeginLogin(t.Context())
	if _, _, _, err := sealed.svc.FinishLogin(t.Context(), p, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("plain state accepted with a key configured: %v", err)
	}
	if _, _, _, err := plain.svc.FinishLogin(t.Context(), s, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("sealed state accepted without a key: %v", err)
	}
	if _, err := New(plain.store, Options{RPID: testRPID, Origins: []string{testOrigin}, StateKey: []byte("short")}); err == nil {
		t.Error("a short StateKey was accepted")
	}
}

func TestStateMalformed(t *testing.T) {
	f := newFixture(t, nil)
	for _, s := range []string{"", "p1.", "p1.!!!", "p1.e30", "x1.e30", strings.Repeat("a", maxStateLen+1)} {
		if _, _, _, err := f.svc.FinishLogin(t.Context(), s, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("state %.20q: %v, want ErrInvalid", s, err)
		}
	}
}

func TestCustomTimeout(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Timeout = time.Minute })
	options, state, _ := f.svc.BeginLogin(t.Context())
	if got := decode(t, options)["publicKey"].(map[string]any)["timeout"]; got != float64(60000) {
		t.Errorf("timeout hint %v, want 60000", got)
	}
	f.clock.Advance(time.Minute)
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, nil); !errors.Is(err, ErrStateExpired) {
		t.Fatalf("after the timeout: %v, want ErrStateExpired", err)
	}
}

// TestFinishedStateRefusedByAnotherService: a state finished by one
// Service is refused by another on the same store (another replica, or
// this one restarted): the finish is claimed in storage, not in memory.
func TestFinishedStateRefusedByAnotherService(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	other, err := New(f.store, f.svc.opts)
	if err != nil {
		t.Fatal(err)
	}
	options, state, _ := f.svc.BeginLogin(t.Context())
	resp := f.assert(t, d, options)
	if _, _, _, err := f.svc.FinishLogin(t.Context(), state, resp); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := other.FinishLogin(t.Context(), state, resp); !errors.Is(err, ErrStateUsed) {
		t.Fatalf("the same state on another Service: %v, want ErrStateUsed", err)
	}
}

func TestNewValidates(t *testing.T) {
	f := newFixture(t, nil)
	for name, o := range map[string]Options{
		"no RP ID":   {Origins: []string{testOrigin}},
		"no origins": {RPID: testRPID},
		"bad RP ID":  {RPID: "https://x", Origins: []string{testOrigin}},
		"short key":  {RPID: testRPID, Origins: []string{testOrigin}, StateKey: make([]byte, 16)},
	} {
		if _, err := New(f.store, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(nil, Options{RPID: testRPID, Origins: []string{testOrigin}}); err == nil {
		t.Error("nil store accepted")
	}
}
