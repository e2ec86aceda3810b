package bolt_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// damagedCopy writes a closed database holding 200 tokens, hands its bytes
// to damage and writes them back; it returns the path.
func damagedCopy(t *testing.T, damage func(data []byte, pageSize, tokensRoot int)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tsubasa.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := make([]storage.Token, 200) // enough for the bucket to have pages of its own
	for i := range ts {
		ts[i] = benchToken(fmt.Sprintf("t%03d", i))
	}
	if err := s.CreateTokens(t.Context(), ts...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var root int
	_ = db.View(func(tx *bbolt.Tx) error { root = int(tx.Bucket([]byte("tokens")).RootPage()); return nil })
	pageSize := db.Info().PageSize
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if root < 2 {
		t.Fatalf("tokens bucket is inline (root page %d)", root)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damage(data, pageSize, root)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVerifyReportsADamagedPage: Open stores no free list, so Verify's
// check rebuilds it by walking the pages; a zeroed page must give an error,
// not end the process.
func TestVerifyReportsADamagedPage(t *testing.T) {
	path := damagedCopy(t, func(data []byte, pageSize, root int) {
		clear(data[root*pageSize : (root+1)*pageSize])
	})
	if err := bolt.Verify(t.Context(), path); err == nil || !strings.Contains(err.Error(), "damaged page") {
		t.Errorf("Verify of a file with a zeroed page: %v, want a damaged page error", err)
	}
}

// TestOpenReportsKeysOutOfOrder: the walk that rebuilds the free list at a
// read-write open checks the tree; what it finds is an error from Open
// (bbolt panics with it), naming the file.
func TestOpenReportsKeysOutOfOrder(t *testing.T) {
	path := damagedCopy(t, func(data []byte, _, _ int) {
		// The first token's key, in its leaf just before its value.
		i := bytes.Index(data, []byte("t000\x01{\"ID\":\"t000\""))
		if i < 0 {
			t.Fatal("leaf element of t000 not found")
		}
		data[i] = 'z'
	})
	if err := bolt.Verify(t.Context(), path); err == nil {
		t.Error("Verify of a file with keys out of order succeeded")
	}
	s, err := bolt.Open(path, bolt.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a file with keys out of order succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "damaged") || !strings.Contains(msg, path) {
		t.Errorf("Open: %q; want an error naming the file as damaged", msg)
	}
}

// TestReopenReusesFreePages: the free list rebuilt at open is right:
// pages freed before a reopen are reused after it (the file's high-water
// mark stays put when the same data is rewritten), and the file stays
// consistent.
func TestReopenReusesFreePages(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tsubasa.db")
	var used []int64 // bytes below the high-water mark, by round
	for round := range 3 {
		s, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			id := fmt.Sprintf("t%03d", i)
			if round > 0 {
				if err := s.DeleteToken(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CreateTokens(ctx, benchToken(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := bolt.Verify(ctx, path); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_ = db.View(func(tx *bbolt.Tx) error { used = append(used, tx.Size()); return nil })
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Without the free pages of the first two rounds, each of the 200
	// commits of the last round would take new pages.
	if used[2] > used[1]+used[1]/4 {
		t.Errorf("used bytes by round %v: the round after a reopen grew the file", used)
	}
}
