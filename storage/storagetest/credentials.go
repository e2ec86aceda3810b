package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// credentialSet stores member m1 (with the sessionSet and tokenSet around
// it: m1 has sessions s1, s2, s3 and tokens a1, r1, a2, r2) and returns it.
func credentialSet(t *testing.T, s storage.Store, stored bool) storage.Member {
	t.Helper()
	m := member(1)
	m.ID = "m1"
	ok(t, s.CreateMember(t.Context(), m))
	sessionSet(t, s)
	if stored {
		ok(t, s.CreateTokens(t.Context(), tokenSet()...))
	}
	return m
}

// newStamp is a ChangeCredentials function: a new password and stamp.
func newStamp(m storage.Member) (storage.Member, error) {
	m.PasswordHash, m.SecurityStamp, m.MustChangePassword = "$argon2id$new", "stamp-2", false
	return m, nil
}

// eventsOf is a ChangeCredentials events function that returns evs.
func eventsOf(evs ...storage.Event) func(storage.EndedGrants) []storage.Event {
	return func(storage.EndedGrants) []storage.Event { return evs }
}

func sessionIDsOf(t *testing.T, s storage.Store, member string) string {
	t.Helper()
	return strings.Join(sessionIDs(must(s.ListSessions(t.Context(), storage.SessionFilter{MemberID: member}))(t)), ",")
}

func revokedIDs(t *testing.T, s storage.Store, ts []storage.Token) string {
	t.Helper()
	var out []string
	for _, tok := range ts {
		if must(s.TokenRevoked(t.Context(), tok))(t) {
			out = append(out, tok.ID)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

var credentialTests = []test{
	{"ChangeCredentials/updates the member and appends the events", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, true)
		e := event("e1", m.ID, at(0))
		var seen storage.EndedGrants
		ended := must(s.ChangeCredentials(ctx, m.ID, newStamp, func(g storage.EndedGrants) []storage.Event {
			seen = g
			return []storage.Event{e}
		}))(t)
		want, _ := newStamp(m)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), want)
		equal(t, must(s.ListEvents(ctx, m.ID, 10))(t), []storage.Event{e})
		equal(t, seen, ended) // the events are built from what the change ends
	}},
	{"ChangeCredentials/returns each ended session with the clients it gave codes to (back-channel logout's recipients)", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, false)
		ok(t, s.UpdateSession(ctx, "s2", func(sess storage.Session) (storage.Session, error) {
			sess.Clients = []string{"app-1", "app-2"}
			return sess, nil
		}))
		ended := must(s.ChangeCredentials(ctx, m.ID, newStamp, nil))(t)
		got := map[string][]string{}
		for _, sess := range ended.Sessions {
			got[sess.ID] = sess.Clients
		}
		equal(t, got, map[string][]string{"s1": nil, "s2": {"app-1", "app-2"}, "s3": nil})
	}},
	{"ChangeCredentials/deletes exactly the member's sessions and stored tokens, and returns them", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, true)
		ended := must(s.ChangeCredentials(ctx, m.ID, newStamp, nil))(t)
		equal(t, strings.Join(sessionIDs(ended.Sessions), ","), "s1,s2,s3")
		equal(t, ids(ended.Tokens), "a1,a2,r1,r2")
		for _, sess := range ended.Sessions {
			equal(t, sess, session(sess.ID, "m1", sess.DeviceID)) // as stored
		}
		equal(t, sessionIDsOf(t, s, "m1"), "")
		equal(t, sessionIDsOf(t, s, "m2"), "s4")
		must(s.SessionByID(ctx, "anon"))(t)
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{MemberID: "m1"}))(t)), "")
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{ClientID: "c1"}))(t)), "a3,cc,r3")
	}},
	{"ChangeCredentials/revokes the member's unstored tokens issued before it, no others", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, false)
		must(s.ChangeCredentials(ctx, m.ID, newStamp, nil))(t)
		equal(t, revokedIDs(t, s, tokenSet()), "a1,a2,r1,r2")
		later := token("a9", storage.AccessToken, "m1", "c1", "s9", "", "ar9")
		later.CreatedAt = time.Now().Add(time.Hour) // issued after the change
		equal(t, must(s.TokenRevoked(ctx, later))(t), false)
	}},
	{"ChangeCredentials/an error from fn writes nothing: member, events, sessions, tokens and revocations stay", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, true)
		_, err := s.ChangeCredentials(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.PasswordHash = "changed"
			return m, errBoom
		}, eventsOf(event("e1", m.ID, at(0))))
		isErr(t, err, errBoom)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, len(must(s.ListEvents(ctx, m.ID, 10))(t)), 0)
		equal(t, sessionIDsOf(t, s, "m1"), "s1,s2,s3")
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{MemberID: "m1"}))(t)), "a1,a2,r1,r2")
		equal(t, revokedIDs(t, s, tokenSet()), "")
	}},
	{"ChangeCredentials/unknown member returns ErrNotFound and ends nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		sessionSet(t, s) // sessions of m1 and m2, who have no member record
		ok(t, s.CreateTokens(ctx, tokenSet()...))
		_, err := s.ChangeCredentials(ctx, "m1", newStamp, eventsOf(event("e1", "m1", at(0))))
		isErr(t, err, storage.ErrNotFound)
		equal(t, sessionIDsOf(t, s, "m1"), "s1,s2,s3")
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{MemberID: "m1"}))(t)), "a1,a2,r1,r2")
		equal(t, len(must(s.ListEvents(ctx, "m1", 10))(t)), 0)
	}},
	{"ChangeCredentials/taken event id returns ErrAlreadyExists and changes nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, true)
		taken := event("e1", m.ID, at(0))
		ok(t, s.AppendEvent(ctx, taken))
		_, err := s.ChangeCredentials(ctx, m.ID, newStamp, eventsOf(event("e0", m.ID, at(time.Minute)), taken))
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, must(s.ListEvents(ctx, m.ID, 10))(t), []storage.Event{taken})
		equal(t, sessionIDsOf(t, s, "m1"), "s1,s2,s3")
		equal(t, revokedIDs(t, s, tokenSet()), "")
	}},
	{"ChangeCredentials/a session created afterwards is kept", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := credentialSet(t, s, true)
		must(s.ChangeCredentials(ctx, m.ID, newStamp, nil))(t)
		ok(t, s.CreateSession(ctx, session("s5", "m1", "d1")))
		equal(t, sessionIDsOf(t, s, "m1"), "s5")
	}},
}
