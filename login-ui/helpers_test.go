package loginui

import (
	"testing"

	"tsubasa/provider/member"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

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
