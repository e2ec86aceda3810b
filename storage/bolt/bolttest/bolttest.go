package bolttest

import (
	"path/filepath"
	"testing"

	"tsubasa/storage/bolt"
)

// Open opens a new bolt file in t's temporary directory with o, and closes
// it when the test (or benchmark) ends.
func Open(t testing.TB, o bolt.Options) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tsubasa.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
