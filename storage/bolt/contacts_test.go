package bolt

import (
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// TestContactIndexesFilledForAnOlderFile: a file written before the
// contact indexes existed gets them, filled with its members, at the
// first read-write open, so that a lookup by email or phone finds members
// stored before the upgrade.
func TestContactIndexesFilledForAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := storage.Member{ID: "m1", Number: "1000001", Email: "old@example.jp", Phone: "+819012345678"}
	if err := s.CreateMember(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Make the file as an older version left it: no contact indexes.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bMemberEmail, bMemberPhone} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	byEmail, err := s.MembersByEmail(t.Context(), "old@example.jp", 5)
	if err != nil || len(byEmail) != 1 || byEmail[0].ID != "m1" {
		t.Errorf("MembersByEmail after the upgrade: %v, %v", byEmail, err)
	}
	byPhone, err := s.MembersByPhone(t.Context(), "+819012345678", 5)
	if err != nil || len(byPhone) != 1 || byPhone[0].ID != "m1" {
		t.Errorf("MembersByPhone after the upgrade: %v, %v", byPhone, err)
	}
}
