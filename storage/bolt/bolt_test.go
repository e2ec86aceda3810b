package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/storagetest"
)

func openAt(t testing.TB, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openTemp(t testing.TB) *bolt.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "tsubasa.db"), bolt.Options{})
}

// openWithAlice opens a new store at path holding alice; the caller closes
// it, to open the file again.
func openWithAlice(t *testing.T, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(t.Context(), alice); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return dumpable{openTemp(t)} })
}

var alice = storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive, CreatedAt: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)}

func TestOpenLockedFileFailsWithErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tsubasa.db")
	openAt(t, path, bolt.Options{})
	// bbolt's flock belongs to the open file, so a second open in this
	// process contends like another process would.
	for _, opts := range []bolt.Options{{Timeout: 50 * time.Millisecond}, {Timeout: 50 * time.Millisecond, ReadOnly: true}} {
		s, err := bolt.Open(path, opts)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%+v) of a locked file succeeded", opts)
		}
		if !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("error = %v, want one wrapping ErrLocked", err)
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "another Tsubasa process") {
			t.Errorf("error %q should name the file and say another Tsubasa process holds it", msg)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tsubasa.db")
	s := openWithAlice(t, path)
	secret, err := s.Secret(ctx, "hmac", func() ([]byte, error) { return []byte("k"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path, bolt.Options{})
	if got, err := s.MemberByNumber(ctx, alice.Number); err != nil || got.ID != alice.ID {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	again, err := s.Secret(ctx, "hmac", func() ([]byte, error) { return []byte("other"), nil })
	if err != nil || !bytes.Equal(again, secret) {
		t.Fatalf("secret after reopen = %q, %v; want %q", again, err, secret)
	}
}

func TestOpenCreatesPrivateDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "tsubasa")
	s := openAt(t, filepath.Join(dir, "tsubasa.db"), bolt.Options{})
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may only take permissions away.
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s: mode %v, want at most %v", path, got, want)
		}
	}
	if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestBackupOpensWithTheData(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	if err := s.CreateMember(ctx, alice); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() != n {
		t.Errorf("Backup reported %d bytes, file has %d", n, fi.Size())
	}
	// The live store keeps working, and the copy is a complete database.
	if err := s.CreateMember(ctx, storage.Member{ID: "m2", Number: "1000002"}); err != nil {
		t.Fatal(err)
	}
	b := openAt(t, path, bolt.Options{ReadOnly: true})
	if got, err := b.MemberByNumber(ctx, alice.Number); err != nil || got.ID != alice.ID {
		t.Fatalf("backup: %+v, %v", got, err)
	}
	if _, err := b.MemberByID(ctx, "m2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("backup holds a member written after it: %v", err)
	}
}

func TestReadOnlyReadsAndRefusesWrites(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tsubasa.db")
	s := openWithAlice(t, path)
	s.Close()

	r1 := openAt(t, path, bolt.Options{ReadOnly: true})
	r2 := openAt(t, path, bolt.Options{ReadOnly: true}) // readers share the lock
	for _, r := range []*bolt.Store{r1, r2} {
		if _, err := r.MemberByID(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := r1.CreateMember(ctx, storage.Member{ID: "m2", Number: "1000002"}); err == nil {
		t.Fatal("write to a read-only store succeeded")
	}
	if _, err := bolt.Open(path, bolt.Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("read-write open beside readers: %v, want ErrLocked", err)
	}
}

func TestReadOnlyMissingFileFails(t *testing.T) {
	if s, err := bolt.Open(filepath.Join(t.TempDir(), "none.db"), bolt.Options{ReadOnly: true}); err == nil {
		s.Close()
		t.Fatal("read-only open of a missing file succeeded")
	}
}

// dumpable gives the store the Dump the erasure scan needs
// (storagetest.Dumper), outside the production type.
type dumpable struct{ *bolt.Store }

func (d dumpable) Dump(ctx context.Context, fn func(where string, data []byte)) error {
	return bolt.Dump(d.Store, ctx, fn)
}
