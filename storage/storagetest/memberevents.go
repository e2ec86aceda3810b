package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

// cleared is an UpdateMember function: a successful login's.
func cleared(m storage.Member) (storage.Member, error) {
	m.FailedLogins, m.LockedUntil = 0, time.Time{}
	return m, nil
}

var memberEventTests = []test{
	{"UpdateMemberWithEvents/writes the member and the events together", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		m.FailedLogins = 3
		ok(t, s.CreateMember(ctx, m))
		e1, e2 := event("e1", m.ID, at(0)), event("e2", m.ID, at(time.Minute))
		ok(t, s.UpdateMemberWithEvents(ctx, m.ID, cleared, e1, e2))
		m.FailedLogins = 0
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, must(s.ListEvents(ctx, m.ID, 10))(t), []storage.Event{e2, e1})
	}},
	{"UpdateMemberWithEvents/without events is UpdateMember", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		m.FailedLogins = 3
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.UpdateMemberWithEvents(ctx, m.ID, cleared))
		equal(t, must(s.MemberByID(ctx, m.ID))(t).FailedLogins, 0)
		equal(t, len(must(s.ListEvents(ctx, m.ID, 10))(t)), 0)
	}},
	{"UpdateMemberWithEvents/error from fn writes neither", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		err := s.UpdateMemberWithEvents(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.GivenName = "changed"
			return m, errBoom
		}, event("e1", m.ID, at(0)))
		isErr(t, err, errBoom)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, len(must(s.ListEvents(ctx, m.ID, 10))(t)), 0)
	}},
	{"UpdateMemberWithEvents/unknown member returns ErrNotFound and writes no event", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		isErr(t, s.UpdateMemberWithEvents(ctx, "nobody", cleared, event("e1", "nobody", at(0))), storage.ErrNotFound)
		equal(t, len(must(s.ListEvents(ctx, "nobody", 10))(t)), 0)
	}},
	{"UpdateMemberWithEvents/taken event id returns ErrAlreadyExists and changes nothing", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		m.FailedLogins = 3
		ok(t, s.CreateMember(ctx, m))
		taken := event("e1", m.ID, at(0))
		ok(t, s.AppendEvent(ctx, taken))
		isErr(t, s.UpdateMemberWithEvents(ctx, m.ID, cleared, event("e0", m.ID, at(time.Minute)), taken),
			storage.ErrAlreadyExists)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, must(s.ListEvents(ctx, m.ID, 10))(t), []storage.Event{taken})
	}},
}
