package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"tsubasa/storage/bolt"
)

// backupFile writes a backup of a store holding alice and returns its path.
func backupFile(t *testing.T) string {
	t.Helper()
	s := openTemp(t)
	if err := s.CreateMember(t.Context(), alice); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVerify: a backup verifies; a truncated, garbage, empty or foreign
// file does not, and Verify never panics on one nor changes it.
func TestVerify(t *testing.T) {
	good := backupFile(t)
	if err := bolt.Verify(t.Context(), good); err != nil {
		t.Fatalf("a fresh backup does not verify: %v", err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	foreign := filepath.Join(dir, "foreign.db")
	writeForeignBolt(t, foreign)
	for name, c := range map[string]struct {
		path string
		want string
	}{
		"truncated": {write("truncated.db", data[:len(data)/2]), "truncated"},
		"garbage":   {write("garbage.db", []byte(strings.Repeat("not a database ", 2000))), "not a database"},
		"empty":     {write("empty.db", nil), "not a database"},
		"missing":   {filepath.Join(dir, "none.db"), "no such file"},
		"foreign":   {foreign, "bucket"},
	} {
		before, _ := os.ReadFile(c.path)
		err := bolt.Verify(t.Context(), c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Verify = %v, want an error mentioning %q", name, err, c.want)
		}
		if after, _ := os.ReadFile(c.path); string(after) != string(before) {
			t.Errorf("%s: Verify changed the file", name)
		}
	}
}

// writeForeignBolt makes a valid bbolt file of another application: no
// Tsubasa buckets.
func writeForeignBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("other"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefusesALockedFile(t *testing.T) {
	s := openTemp(t)
	err := bolt.Verify(t.Context(), s.Path())
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("Verify beside a writer: %v, want ErrLocked", err)
	}
}
