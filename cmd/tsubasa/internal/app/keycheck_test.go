package app

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// The check value admits the secret the database was initialised with,
// refuses any other without naming it, and holds neither the secret nor
// a key derived from it.
func TestMasterCheckValue(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	master := []byte("the-master-secret-of-this-database-0123456789")
	if err := checkMaster(ctx, st, master); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := checkMaster(ctx, st, master); err != nil {
		t.Fatalf("the same secret again: %v", err)
	}
	other := []byte("another-master-secret-of-the-same-length-0123")
	err = checkMaster(ctx, st, other)
	if !errors.Is(err, errMasterMismatch) {
		t.Fatalf("another secret: %v, want errMasterMismatch", err)
	}
	if strings.Contains(err.Error(), string(other)) || strings.Contains(err.Error(), string(master)) {
		t.Fatal("the refusal names a secret")
	}
	stored, err := st.Secret(ctx, kcvSecretName, func() ([]byte, error) { return nil, errors.New("must exist") })
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{master, deriveKey(master, "hmac"), deriveKey(master, "cookie"), deriveKey(master, "token-encryption")} {
		if bytes.Contains(stored, k) || bytes.Contains(stored, k[:8]) {
			t.Fatal("the stored check value holds the secret or a derived key")
		}
	}
	// Each database salts its own: the value tells nothing across them.
	st2, err := bolt.Open(filepath.Join(t.TempDir(), "t2.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if err := checkMaster(ctx, st2, master); err != nil {
		t.Fatal(err)
	}
	stored2, _ := st2.Secret(ctx, kcvSecretName, nil)
	if bytes.Equal(stored, stored2) {
		t.Error("two databases with one secret store the same check value: unsalted")
	}
}

// A check value this code did not write is an error of its own, not a
// mismatch and not a pass.
func TestMasterCheckValueNotOurs(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Import(t.Context(), storage.KindSecrets, []any{storage.NamedSecret{Name: kcvSecretName, Value: []byte("garbage")}}); err != nil {
		t.Fatal(err)
	}
	err = checkMaster(t.Context(), st, []byte("the-master-secret-of-this-database-0123456789"))
	if err == nil || errors.Is(err, errMasterMismatch) {
		t.Fatalf("a foreign check value: %v", err)
	}
}
