package bolt

import (
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// A file written before the sms_budget bucket existed: it still verifies
// (so its backups restore), opens read-only with an empty budget, and gets
// the bucket at its next read-write open.
func TestFileWithoutSMSBudgetBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bSMSBudget) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if err := Verify(t.Context(), path); err != nil {
		t.Fatalf("Verify of a file without the late bucket: %v", err)
	}
	now := time.Date(2025, 4, 1, 9, 30, 0, 0, time.UTC)
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	if n, err := ro.SMSCount(t.Context(), now); err != nil || n != 0 {
		t.Errorf("SMSCount read-only = %d, %v; want 0, nil", n, err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	rw, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if used, ok, err := rw.ReserveSMS(t.Context(), now, 1); err != nil || !ok || used != 1 {
		t.Errorf("ReserveSMS after a read-write open = %d, %v, %v; want 1, true, nil", used, ok, err)
	}
}

// Counters of minutes that left the window are deleted by the next
// reservation, so the bucket stays small however long the server runs.
func TestSMSBudgetPrunesOldMinutes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "b.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	for i := range 180 {
		if _, ok, err := s.ReserveSMS(t.Context(), start.Add(time.Duration(i)*time.Minute), 1000); err != nil || !ok {
			t.Fatalf("minute %d: %v, %v", i, ok, err)
		}
	}
	var keys int
	_ = s.db.View(func(tx *bbolt.Tx) error { keys = tx.Bucket(bSMSBudget).Stats().KeyN; return nil })
	if keys != 61 {
		t.Errorf("%d minute counters kept after three hours of sends, want the 61 of one window", keys)
	}
}
