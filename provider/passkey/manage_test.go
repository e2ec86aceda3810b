package passkey

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
)

func TestListOldestFirst(t *testing.T) {
	f := newFixture(t, nil)
	for _, name := range []string{"one", "two", "three"} {
		f.register(t, f.alice, newDevice(virtualwebauthn.AuthenticatorOptions{}), name)
		f.clock.Advance(time.Minute)
	}
	f.register(t, f.bob, newDevice(virtualwebauthn.AuthenticatorOptions{}), "bob's")
	ps, err := f.svc.List(t.Context(), f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "one,two,three" {
		t.Fatalf("List = %v", names)
	}
}

func TestRename(t *testing.T) {
	f := newFixture(t, nil)
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	p := f.register(t, f.alice, d, "")
	ctx := t.Context()
	tests := []struct {
		name, to string
		want     error
		stored   string
	}{
		{"trimmed", "  仕事用の iPhone  ", nil, "仕事用の iPhone"},
		{"64 characters", strings.Repeat("あ", 64), nil, strings.Repeat("あ", 64)},
		{"65 characters", strings.Repeat("あ", 65), ErrName, strings.Repeat("あ", 64)},
		{"blank", " \t ", ErrName, strings.Repeat("あ", 64)},
		{"control character", "a\x00b", ErrName, strings.Repeat("あ", 64)},
		{"bidi override", "evil\u202Egnp.exe", ErrName, strings.Repeat("あ", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.svc.Rename(ctx, f.alice.ID, p.ID, tt.to); !errors.Is(err, tt.want) {
				t.Fatalf("Rename: %v, want %v", err, tt.want)
			}
			got, _ := f.store.PasskeyByID(ctx, p.ID)
			if got.Name != tt.stored {
				t.Fatalf("name %q, want %q", got.Name, tt.stored)
			}
		})
	}
	if err := f.svc.Rename(ctx, f.bob.ID, p.ID, "mine now"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("renaming another member's passkey: %v, want ErrNotFound", err)
	}
	if err := f.svc.Rename(ctx, f.alice.ID, []byte("missing"), "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("renaming a missing passkey: %v, want ErrNotFound", err)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	p := f.register(t, f.alice, d, "laptop")
	if _, _, _, err := f.login(t, d); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(ctx, f.bob.ID, p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting another member's passkey: %v, want ErrNotFound", err)
	}
	f.clock.Advance(time.Minute) // events of one instant have no order
	if err := f.svc.Delete(ctx, f.alice.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(ctx, f.alice.ID, p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v, want ErrNotFound", err)
	}
	if _, _, _, err := f.login(t, d); !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("login with a deleted passkey: %v, want ErrUnknownCredential", err)
	}
	evs, _ := f.store.ListEvents(ctx, f.alice.ID, 10)
	if len(evs) != 2 || evs[0].Type != EventRemoved || evs[0].Detail["name"] != "laptop" || evs[1].Type != EventAdded {
		t.Fatalf("events %+v, want removed then added", evs)
	}
	// The member can register the same authenticator again afterwards.
	f.register(t, f.alice, d, "laptop again")
}
