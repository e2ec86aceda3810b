package loginui

import (
	"path/filepath"
	"testing"

	"tsubasa/provider/member"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// openStore opens a bolt file in the test's temporary directory, closed
// when the test ends.
func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newMembers is the member service on st, with hashing cheap enough for
// tests, and the member it created from nm.
func newMembers(t *testing.T, st *bolt.Store, nm member.NewMember) (*member.Service, storage.Member) {
	t.Helper()
	members := member.NewService(st, member.NewHasher(member.HashOptions{MemoryKiB: 8192, Iterations: 1}), member.Options{})
	m, err := members.CreateMember(t.Context(), nm)
	if err != nil {
		t.Fatal(err)
	}
	return members, m
}
