package storagetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

func session(id, member, device string) storage.Session {
	return storage.Session{
		ID: id, MemberID: member, DeviceID: device,
		AuthTime: at(0), ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		Data:      map[string]string{"auth_request": "ar-1", "csrf": "x"},
		IP:        "192.0.2.1",
		UserAgent: "Mozilla/5.0",
		CreatedAt: at(0), LastSeenAt: at(time.Minute), ExpiresAt: at(12 * time.Hour),
	}
}

func sessionIDs(ss []storage.Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	slices.SortFunc(out, cmp.Compare)
	return out
}

// sessionSet: m1 on devices d1 (two sessions) and d2, m2 on d1, and an
// anonymous pre-login session.
func sessionSet(t *testing.T, s storage.Store) {
	t.Helper()
	for _, sess := range []storage.Session{
		session("s1", "m1", "d1"), session("s2", "m1", "d1"), session("s3", "m1", "d2"),
		session("s4", "m2", "d1"), session("anon", "", ""),
	} {
		ok(t, s.CreateSession(t.Context(), sess))
	}
}

var sessionTests = []test{
	{"CreateSession/stored session reads back equal", func(t *testing.T, s storage.Store) {
		sess := session("s1", "m1", "d1")
		ok(t, s.CreateSession(t.Context(), sess))
		equal(t, must(s.SessionByID(t.Context(), "s1"))(t), sess)
	}},
	{"CreateSession/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateSession(t.Context(), session("s1", "m1", "d1")))
		isErr(t, s.CreateSession(t.Context(), session("s1", "m2", "d2")), storage.ErrAlreadyExists)
		equal(t, must(s.SessionByID(t.Context(), "s1"))(t), session("s1", "m1", "d1"))
	}},
	{"SessionByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.SessionByID(t.Context(), "nope")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"SessionByID/returns a session past ExpiresAt (the caller owns the clock)", func(t *testing.T, s storage.Store) {
		sess := session("s1", "m1", "d1")
		sess.ExpiresAt = at(-time.Hour)
		ok(t, s.CreateSession(t.Context(), sess))
		equal(t, must(s.SessionByID(t.Context(), "s1"))(t), sess)
	}},
	{"UpdateSession/login stores the member and lists the session under it", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		anon := session("s1", "", "")
		ok(t, s.CreateSession(ctx, anon))
		equal(t, len(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), 0)
		ok(t, s.UpdateSession(ctx, "s1", func(sess storage.Session) (storage.Session, error) {
			sess.MemberID, sess.DeviceID = "m1", "d1"
			sess.Data["step"] = "done"
			return sess, nil
		}))
		want := session("s1", "m1", "d1")
		want.Data["step"] = "done"
		equal(t, must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t), []storage.Session{want})
	}},
	{"UpdateSession/changed member moves the session between members", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSession(ctx, session("s1", "m1", "d1")))
		ok(t, s.UpdateSession(ctx, "s1", func(sess storage.Session) (storage.Session, error) {
			sess.MemberID = "m2"
			return sess, nil
		}))
		equal(t, len(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), 0)
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m2"}))(t)), []string{"s1"})
	}},
	{"UpdateSession/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, sess := t.Context(), session("s1", "m1", "d1")
		ok(t, s.CreateSession(ctx, sess))
		err := s.UpdateSession(ctx, "s1", func(sess storage.Session) (storage.Session, error) {
			sess.Data["csrf"] = "changed"
			sess.MemberID = "m2"
			return sess, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.SessionByID(ctx, "s1"))(t), sess)
		equal(t, len(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m2"}))(t)), 0)
	}},
	{"UpdateSession/the clients a session gave codes to read back in order, and survive other updates", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateSession(ctx, session("s1", "m1", "d1")))
		for _, c := range []string{"app-b", "app-a"} {
			ok(t, s.UpdateSession(ctx, "s1", func(sess storage.Session) (storage.Session, error) {
				sess.Clients = append(sess.Clients, c)
				sess.Carried = []storage.CarriedSession{{ID: "s0", Clients: []string{"app-c"}}}
				return sess, nil
			}))
		}
		ok(t, s.UpdateSession(ctx, "s1", func(sess storage.Session) (storage.Session, error) {
			sess.LastSeenAt = at(time.Hour)
			return sess, nil
		}))
		got := must(s.SessionByID(ctx, "s1"))(t)
		equal(t, got.Clients, []string{"app-b", "app-a"})
		equal(t, got.Carried, []storage.CarriedSession{{ID: "s0", Clients: []string{"app-c"}}})
		listed := must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)
		equal(t, listed[0].Clients, []string{"app-b", "app-a"})
	}},
	{"UpdateSession/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateSession(t.Context(), "nope", func(sess storage.Session) (storage.Session, error) { return sess, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeleteSession/deleted session is gone and no longer listed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		sessionSet(t, s)
		ok(t, s.DeleteSession(ctx, "s1"))
		_, err := s.SessionByID(ctx, "s1")
		isErr(t, err, storage.ErrNotFound)
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), []string{"s2", "s3"})
		isErr(t, s.DeleteSession(ctx, "s1"), storage.ErrNotFound)
	}},
	{"ListSessions/by member lists only that member's sessions", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		sessionSet(t, s)
		got := must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)
		equal(t, sessionIDs(got), []string{"s1", "s2", "s3"})
		for _, sess := range got {
			equal(t, sess, session(sess.ID, "m1", sess.DeviceID))
		}
		equal(t, len(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m3"}))(t)), 0)
	}},
	{"ListSessions/by member and device lists only that device's sessions", func(t *testing.T, s storage.Store) {
		sessionSet(t, s)
		got := must(s.ListSessions(t.Context(), storage.SessionFilter{MemberID: "m1", DeviceID: "d1"}))(t)
		equal(t, sessionIDs(got), []string{"s1", "s2"})
	}},
	{"ListSessions/filter without member returns an error", func(t *testing.T, s storage.Store) {
		sessionSet(t, s)
		_, err := s.ListSessions(t.Context(), storage.SessionFilter{DeviceID: "d1"})
		notNil(t, err, "ListSessions without MemberID")
	}},
	{"DeleteSessions/by member deletes all of the member's sessions and no other", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		sessionSet(t, s)
		equal(t, must(s.DeleteSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t), 3)
		equal(t, len(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), 0)
		for _, id := range []string{"s1", "s2", "s3"} {
			_, err := s.SessionByID(ctx, id)
			isErr(t, err, storage.ErrNotFound)
		}
		must(s.SessionByID(ctx, "s4"))(t)
		must(s.SessionByID(ctx, "anon"))(t)
	}},
	{"DeleteSessions/by member and device deletes only that device's sessions", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		sessionSet(t, s)
		equal(t, must(s.DeleteSessions(ctx, storage.SessionFilter{MemberID: "m1", DeviceID: "d1"}))(t), 2)
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), []string{"s3"})
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m2"}))(t)), []string{"s4"})
		equal(t, must(s.DeleteSessions(ctx, storage.SessionFilter{MemberID: "m1", DeviceID: "d1"}))(t), 0)
	}},
	{"DeleteSessions/filter without member returns an error and deletes nothing", func(t *testing.T, s storage.Store) {
		sessionSet(t, s)
		_, err := s.DeleteSessions(t.Context(), storage.SessionFilter{})
		notNil(t, err, "DeleteSessions without MemberID")
		equal(t, len(must(s.ListSessions(t.Context(), storage.SessionFilter{MemberID: "m1"}))(t)), 3)
	}},
}
