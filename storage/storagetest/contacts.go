package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

func memberIDs(ms []storage.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

var contactTests = []test{
	{"MembersByEmail/finds every member with exactly that address, at most limit", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		a, b, c := member(1), member(2), member(3)
		a.Email, b.Email, c.Email = "family@example.jp", "family@example.jp", "Family@example.jp"
		for _, m := range []storage.Member{a, b, c} {
			ok(t, s.CreateMember(ctx, m))
		}
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "family@example.jp", 10))(t)), []string{a.ID, b.ID})
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "Family@example.jp", 10))(t)), []string{c.ID})
		equal(t, len(must(s.MembersByEmail(ctx, "family@example.jp", 1))(t)), 1)
		equal(t, len(must(s.MembersByEmail(ctx, "family@example", 10))(t)), 0) // no prefix match
		equal(t, len(must(s.MembersByEmail(ctx, "", 10))(t)), 0)
	}},
	{"MembersByPhone/finds every member with exactly that number; an update or a removal moves the index", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		a, b := member(1), member(2)
		a.Phone, b.Phone = "+819011112222", "+819033334444"
		ok(t, s.CreateMember(ctx, a))
		ok(t, s.CreateMember(ctx, b))
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819011112222", 10))(t)), []string{a.ID})
		equal(t, len(must(s.MembersByPhone(ctx, "+81901111222", 10))(t)), 0) // no prefix match
		ok(t, s.UpdateMember(ctx, a.ID, func(m storage.Member) (storage.Member, error) {
			m.Phone, m.Email = "+819033334444", "moved@example.jp"
			return m, nil
		}))
		equal(t, len(must(s.MembersByPhone(ctx, "+819011112222", 10))(t)), 0)
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819033334444", 10))(t)), []string{a.ID, b.ID})
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "moved@example.jp", 10))(t)), []string{a.ID})
		ok(t, s.UpdateMember(ctx, a.ID, func(m storage.Member) (storage.Member, error) {
			m.Phone = ""
			return m, nil
		}))
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819033334444", 10))(t)), []string{b.ID})
	}},
	{"MembersByEmail, MembersByPhone/a member holding a NUL in a name is found by their contacts, and breaks no one else's lookup", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		// The store keeps whatever a name holds (an import may bring
		// anything); one member's odd name must not fail every agent's
		// lookup that meets their record.
		odd, other := member(1), member(2)
		odd.FamilyName = "a\x00b"
		odd.Email, other.Email = "family@example.jp", "family@example.jp"
		odd.Phone, other.Phone = "+819011112222", "+819033334444"
		ok(t, s.CreateMember(ctx, odd))
		ok(t, s.CreateMember(ctx, other))
		byEmail := must(s.MembersByEmail(ctx, "family@example.jp", 10))(t)
		equal(t, memberIDs(byEmail), []string{odd.ID, other.ID})
		for _, m := range byEmail {
			if m.ID == odd.ID {
				equal(t, m.FamilyName, "a\x00b")
			}
		}
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819011112222", 10))(t)), []string{odd.ID})
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819033334444", 10))(t)), []string{other.ID})
		equal(t, len(must(s.MembersByEmail(ctx, "nobody@example.jp", 10))(t)), 0)
	}},
	{"MembersByEmail, MembersByPhone/a contact change moves the member from the old contact's lookup to the new one's; erasure removes them from both", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		a, b := member(1), member(2)
		a.Email, b.Email = "old@example.jp", "old@example.jp"
		a.Phone, b.Phone = "+819011110000", "+819099990000"
		// CreateMembers, the import's batch, indexes as CreateMember does.
		errs := must(s.CreateMembers(ctx, []storage.Member{a, b}))(t)
		ok(t, errors.Join(errs...))
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "old@example.jp", 10))(t)), []string{a.ID, b.ID})
		ok(t, s.UpdateMember(ctx, a.ID, func(m storage.Member) (storage.Member, error) {
			m.Email, m.Phone = "new@example.jp", "+819022220000"
			return m, nil
		}))
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "old@example.jp", 10))(t)), []string{b.ID})
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "new@example.jp", 10))(t)), []string{a.ID})
		equal(t, len(must(s.MembersByPhone(ctx, "+819011110000", 10))(t)), 0)
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819022220000", 10))(t)), []string{a.ID})
		tomb := storage.Event{ID: "ev-tombstone", Time: at(time.Minute), Type: "member.erased", MemberID: a.ID, ClientID: "back-office"}
		must(s.EraseMember(ctx, a.ID, nil, tomb))(t)
		equal(t, len(must(s.MembersByEmail(ctx, "new@example.jp", 10))(t)), 0)
		equal(t, len(must(s.MembersByPhone(ctx, "+819022220000", 10))(t)), 0)
		equal(t, memberIDs(must(s.MembersByEmail(ctx, "old@example.jp", 10))(t)), []string{b.ID})
		equal(t, memberIDs(must(s.MembersByPhone(ctx, "+819099990000", 10))(t)), []string{b.ID})
	}},
}
