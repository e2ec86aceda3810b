package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

var unitTests = []test{
	{"Units/held writes are stored by the commit, not before", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		ctx, commit := s.Begin(t.Context())
		d := device(m.ID, "d1")
		ok(t, s.AppendEvent(ctx, event("e1", m.ID, at(0))))
		ok(t, s.RecordLogin(ctx, storage.LoginRecord{Event: event("e2", m.ID, at(time.Second)), Device: &d}))
		ok(t, s.CreateSession(ctx, session("s1", m.ID, "d1")))
		var after []string
		storage.AfterCommit(ctx, func() { after = append(after, "a1") })
		equal(t, len(must(s.ListEvents(ctx, m.ID, 0))(t)), 0)
		isErr(t, errOf(s.SessionByID(ctx, "s1")), storage.ErrNotFound)
		isErr(t, errOf(s.DeviceByID(ctx, m.ID, "d1")), storage.ErrNotFound)
		equal(t, len(after), 0)

		ok(t, commit())
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 0))(t)), []string{"e2", "e1"})
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: m.ID}))(t)), []string{"s1"})
		equal(t, must(s.DeviceByID(ctx, m.ID, "d1"))(t), d)
		equal(t, after, []string{"a1"})
	}},
	{"Units/a write that cannot be held carries the held ones with it", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		ctx, commit := s.Begin(t.Context())
		ok(t, s.AppendEvent(ctx, event("e1", m.ID, at(0))))
		ran := false
		storage.AfterCommit(ctx, func() { ran = true })
		ok(t, s.CreateMember(ctx, member(2)))
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 0))(t)), []string{"e1"})
		equal(t, ran, true)
		ok(t, commit())
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 0))(t)), []string{"e1"})
	}},
	{"Units/a held write that fails fails its carrier and the commit, storing nothing held", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		ok(t, s.CreateSession(t.Context(), session("taken", m.ID, "d1")))
		ctx, commit := s.Begin(t.Context())
		ok(t, s.AppendEvent(ctx, event("e1", m.ID, at(0))))
		ok(t, s.CreateSession(ctx, session("taken", m.ID, "d2"))) // held: fails when committed
		ran := false
		storage.AfterCommit(ctx, func() { ran = true })
		isErr(t, s.CreateMember(ctx, member(2)), storage.ErrAlreadyExists)
		isErr(t, errOf(s.MemberByID(ctx, member(2).ID)), storage.ErrNotFound)
		isErr(t, commit(), storage.ErrAlreadyExists)
		equal(t, len(must(s.ListEvents(ctx, m.ID, 0))(t)), 0)
		equal(t, must(s.SessionByID(ctx, "taken"))(t).DeviceID, "d1")
		equal(t, ran, false)
	}},
	{"Units/after the commit, writes are stored at once", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		ctx, commit := s.Begin(t.Context())
		ok(t, commit())
		ok(t, s.AppendEvent(ctx, event("e1", m.ID, at(0))))
		ran := false
		storage.AfterCommit(ctx, func() { ran = true })
		equal(t, ran, true)
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 0))(t)), []string{"e1"})
		ok(t, commit())
	}},
	{"Units/a login with an alert is stored at once", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		ctx, commit := s.Begin(t.Context())
		alert := message("m1", storage.OutboxPending, at(0), at(0))
		ok(t, s.RecordLogin(ctx, storage.LoginRecord{Event: event("e1", m.ID, at(0)), Alert: &alert}))
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 0))(t)), []string{"e1"})
		ok(t, commit())
	}},
	{"Units/nothing held: AfterCommit runs at once, the commit stores nothing", func(t *testing.T, s storage.Store) {
		ctx, commit := s.Begin(t.Context())
		ran := false
		storage.AfterCommit(ctx, func() { ran = true })
		equal(t, ran, true)
		ok(t, commit())
		ran = false
		storage.AfterCommit(t.Context(), func() { ran = true }) // no unit at all
		equal(t, ran, true)
	}},
}

// errOf drops a result, keeping the error.
func errOf[T any](_ T, err error) error { return err }
