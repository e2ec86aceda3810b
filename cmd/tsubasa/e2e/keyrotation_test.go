package e2e

import (
	"slices"
	"testing"
)

// TestRotationKeepsCachedKeySetsValid: a relying party that fetched the
// key set just before a rotation verifies the ID tokens issued right after
// it. The new keys are published at once and sign only two minutes later
// (with several replicas, once every replica and every key set cached for
// its minute holds them), so no token meets a cached key set that lacks
// its key.
func TestRotationKeepsCachedKeySetsValid(t *testing.T) {
	s := StartWithMember(t, Options{})
	before := jwksKids(t, s)
	s.CLI(t, false, "keys", "rotate")
	after := jwksKids(t, s)
	var fresh []string
	for _, kid := range after {
		if !slices.Contains(before, kid) {
			fresh = append(fresh, kid)
		}
	}
	// One key per signing algorithm: RS256, ES256 and PS256.
	if len(fresh) != 3 || len(after) != 6 {
		t.Fatalf("after the rotation the key set is %v, want the 3 published before and 3 new", after)
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	f := NewFlow()
	cb := Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass)
	tok, _, err := rp.Exchange(t.Context(), f, cb)
	if err != nil {
		t.Fatal(err)
	}
	if kid := headerKid(t, tok.Extra("id_token").(string)); !slices.Contains(before, kid) {
		t.Errorf("the ID token right after the rotation is signed by %s, not in the key set cached before it %v (new: %v)",
			kid, before, fresh)
	}
}
