package storagetest

import (
	"slices"
	"testing"

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
}
