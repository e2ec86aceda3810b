package admin

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tsubasa/provider"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// newService is the operations over a fresh bbolt database, with cheap
// password hashing. Clients are checked by check; keys are not rotated.
func newService(t *testing.T, check func(adminapi.ClientInput) (adminapi.ClientInput, error)) (*Service, *bolt.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tsubasa.db"), bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := member.NewHasher(member.HashOptions{MemoryKiB: 8192, Iterations: 1, Parallelism: 1})
	reg, err := provider.NewClientRegistry(nil, st, make([]byte, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Options{
		Store:       st,
		Members:     member.NewService(st, h, member.Options{Logger: slog.New(slog.DiscardHandler)}),
		Clients:     reg,
		CheckClient: check,
		CursorKey:   []byte("cursor-key-for-tests-0123456789abcdef"),
		Logger:      slog.New(slog.DiscardHandler),
		RotateKeys: func(context.Context) ([]storage.SigningKey, error) {
			return nil, errors.New("keys do not rotate in this test")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

// asIs accepts a client as given: the rules of the config file are the
// composition root's, tested there.
func asIs(in adminapi.ClientInput) (adminapi.ClientInput, error) { return in, nil }

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
