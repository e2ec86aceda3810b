package postgres_test

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// A replica that has not heard of another's revocation or member change
// yet (its listener stopped, its last ping recent, well within the bound)
// may answer TokenRevoked and MemberByID from its caches, stale; its
// storage.Fresh reads see the change at once, from the database.
func TestFreshReadsSeeWhatTheCachesHaveNotHeard(t *testing.T) {
	ctx := t.Context()
	// A bound long enough that b stays fresh for the whole test once its
	// listener is stopped: its caches answer, and they are stale.
	a, b := twoReplicas(t, postgres.Options{RevocationDelay: 30 * time.Second})
	var _ storage.Fresh = b
	m := storage.Member{ID: "m1", Number: "1000001", SecurityStamp: "stamp-1", Status: storage.MemberActive, CreatedAt: t0}
	if err := a.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b fresh", b.Fresh)
	if _, err := b.MemberByID(ctx, m.ID); err != nil || !b.Cached(m.ID) {
		t.Fatalf("member not cached on b: %v", err)
	}
	b.StopFeed()
	if err := a.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
		m.SecurityStamp = "stamp-2"
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	tok := accessToken()
	if _, err := a.DeleteTokens(ctx, storage.TokenFilter{SessionID: tok.SessionID}); err != nil {
		t.Fatal(err)
	}

	// The premise: b answers from caches that have not heard.
	if got, err := b.MemberByID(ctx, m.ID); err != nil || got.SecurityStamp != "stamp-1" || !b.Fresh() {
		t.Fatalf("b's MemberByID: stamp %q, %v, fresh %v; want the cached stamp-1 (this test no longer plays a stale replica)", got.SecurityStamp, err, b.Fresh())
	}
	if revoked(t, b, tok) {
		t.Fatal("b's TokenRevoked saw the revocation with its listener stopped: this test no longer plays a stale replica")
	}

	got, err := b.MemberByIDFresh(ctx, m.ID)
	if err != nil || got.SecurityStamp != "stamp-2" {
		t.Errorf("MemberByIDFresh: stamp %q, %v; want stamp-2, the database's", got.SecurityStamp, err)
	}
	if r, err := b.TokenRevokedFresh(ctx, tok); err != nil || !r {
		t.Errorf("TokenRevokedFresh of a token the revocation covers: %v, %v; want true", r, err)
	}
	later := tok
	later.CreatedAt = time.Now().Add(time.Hour)
	if r, err := b.TokenRevokedFresh(ctx, later); err != nil || r {
		t.Errorf("TokenRevokedFresh of a token issued after the revocation: %v, %v; want false", r, err)
	}
	if _, err := b.MemberByIDFresh(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("MemberByIDFresh of an unknown id: %v; want ErrNotFound", err)
	}

	// Both reads in one batch (storage.FreshPair) decide as the two alone.
	var _ storage.FreshPair = b
	if r, got, err := b.TokenRevokedAndMemberFresh(ctx, tok, m.ID); err != nil || !r || got.SecurityStamp != "stamp-2" {
		t.Errorf("TokenRevokedAndMemberFresh: revoked %v, stamp %q, %v; want true, stamp-2", r, got.SecurityStamp, err)
	}
	if r, _, err := b.TokenRevokedAndMemberFresh(ctx, later, m.ID); err != nil || r {
		t.Errorf("TokenRevokedAndMemberFresh of a token issued after the revocation: %v, %v; want false", r, err)
	}
	if r, _, err := b.TokenRevokedAndMemberFresh(ctx, tok, "nobody"); !errors.Is(err, storage.ErrNotFound) || !r {
		t.Errorf("TokenRevokedAndMemberFresh of an unknown member: revoked %v, %v; want true and ErrNotFound", r, err)
	}
	if r, _, err := b.TokenRevokedAndMemberFresh(ctx, tok, "bad\x00id"); !errors.Is(err, storage.ErrNotFound) || !r {
		t.Errorf("TokenRevokedAndMemberFresh of an unstorable member id: revoked %v, %v; want true and ErrNotFound", r, err)
	}
}
