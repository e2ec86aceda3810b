package storagetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// Dumper hands every stored byte to fn: each record (or row, as text) with
// where it lives. A backend's own tests give their store one, outside the
// production interface, for the erasure scan; the suite fails without it.
type Dumper interface {
	Dump(ctx context.Context, fn func(where string, data []byte)) error
}

// erasable stores a member with something of every kind about them, and
// returns the member and the tombstone that erasing them should keep.
func erasable(t *testing.T, s storage.Store) (storage.Member, storage.Event) {
	t.Helper()
	ctx := t.Context()
	m := member(7)
	m.ID, m.Number, m.Email, m.Phone = "mem-erase", "3141593", "kieko.erase@example.jp", "+818055501234"
	m.FamilyName, m.GivenName, m.FamilyNameLatin, m.GivenNameLatin = "消去", "希恵子", "SHOKYO", "KIEKO"
	ok(t, s.CreateMember(ctx, m))
	ok(t, s.CreateSession(ctx, session("s-erase", m.ID, "d-erase")))
	ok(t, s.CreateTokens(ctx,
		token("a-erase", storage.AccessToken, m.ID, "c1", "s-erase", "", "ar-erase"),
		token("r-erase", storage.RefreshToken, m.ID, "c1", "s-erase", "f-erase", "ar-erase")))
	r := loggedIn(authRequest("ar-erase"))
	r.MemberID, r.LoginHint = m.ID, m.Number
	ok(t, s.CreateAuthRequest(ctx, r))
	ok(t, s.SaveAuthCode(ctx, authCode("code-erase", "ar-erase")))
	ok(t, s.PutDevice(ctx, device(m.ID, "d-erase")))
	ok(t, s.PutConsent(ctx, consent(m.ID, "third-party")))
	pk := passkey(7, m.ID)
	ok(t, s.CreatePasskey(ctx, pk))
	o := otp("otp-erase", m.ID, "login")
	o.Destination = m.Phone
	ok(t, s.PutOTP(ctx, o))
	ss := supportSession("support-erase")
	ss.MemberID = m.ID
	ok(t, s.CreateSupportSession(ctx, ss))
	g := deviceGrant("grant-erase", "ERASEUSR", "tv")
	ok(t, s.CreateDeviceGrant(ctx, g))
	must(s.UpdateDeviceGrant(ctx, g.ID, at(0), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
		g.MemberID = m.ID
		return g, nil
	}))(t)
	e := event("ev-erase", m.ID, at(0))
	e.Detail = map[string]string{"email": m.Email, "name": m.FamilyName + m.GivenName}
	ok(t, s.AppendEvent(ctx, e))
	mail := message("mail-erase", storage.OutboxPending, at(0), at(0))
	mail.To, mail.Text = m.Email, m.FamilyNameLatin+" "+m.GivenNameLatin+" "+m.Number
	ok(t, s.EnqueueMessage(ctx, mail))
	sms := message("sms-erase", storage.OutboxPending, at(0), at(0))
	sms.Channel, sms.To, sms.Text = storage.ChannelSMS, m.Phone, "code"
	ok(t, s.EnqueueMessage(ctx, sms))
	for _, key := range []string{"login/number/" + m.Number, "otp/member/" + m.ID} {
		ok(t, s.UpdateThrottles(ctx, at(0), []string{key}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			return []storage.Throttle{{Count: 3, Until: at(time.Hour)}}, nil
		}))
	}
	enter(t, s, m.ID, "")
	tomb := storage.Event{ID: "ev-tombstone", Time: at(time.Minute), Type: "member.erased", MemberID: m.ID,
		ClientID: "back-office", Detail: map[string]string{"agent": "agent-7"}}
	return m, tomb
}

// bystander stores another member, with a session, a token, an event and
// a mail, which erasing someone else must leave alone.
func bystander(t *testing.T, s storage.Store) storage.Member {
	t.Helper()
	ctx := t.Context()
	b := member(8)
	ok(t, s.CreateMember(ctx, b))
	ok(t, s.CreateSession(ctx, session("s-other", b.ID, "")))
	ok(t, s.CreateTokens(ctx, token("r-other", storage.RefreshToken, b.ID, "c1", "s-other", "f-other", "")))
	ok(t, s.AppendEvent(ctx, event("ev-other", b.ID, at(0))))
	mail := message("mail-other", storage.OutboxPending, at(0), at(0))
	mail.To = b.Email
	ok(t, s.EnqueueMessage(ctx, mail))
	return b
}

func unwrap(s storage.Store) storage.Store {
	if c, ok := s.(*closeOnce); ok {
		return c.Store
	}
	return s
}

var erasureTests = []test{
	{"EraseMember/leaves nothing of the member in any bucket or table but the tombstone and the revocation", func(t *testing.T, s storage.Store) {
		d, isDumper := unwrap(s).(Dumper)
		if !isDumper {
			t.Fatal("the backend's test must give the store a Dump method (storagetest.Dumper) for this scan")
		}
		ctx := t.Context()
		m, tomb := erasable(t, s)
		bystander(t, s)
		// The scan must see the member before erasure, or it proves nothing.
		found := func() []string {
			var hits []string
			ok(t, d.Dump(ctx, func(where string, data []byte) {
				for _, pii := range []string{m.Number, m.Email, m.Phone, m.FamilyName, m.GivenName, m.FamilyNameLatin, m.GivenNameLatin} {
					if bytes.Contains(data, []byte(pii)) {
						hits = append(hits, where+": "+pii)
					}
				}
				// The member id may stay in the tombstone and in the
				// revocation that keeps unstored tokens refused.
				if bytes.Contains(data, []byte(m.ID)) && !bytes.Contains(data, []byte(tomb.ID)) &&
					!strings.Contains(where, "revocation") {
					hits = append(hits, where+": member id")
				}
			}))
			return hits
		}
		if before := found(); len(before) < 10 {
			t.Fatalf("before erasure the scan found the member in only %d places: %q", len(before), before)
		}
		got := must(s.EraseMember(ctx, m.ID, nil, tomb))(t)
		if got.Sessions != 1 || got.Tokens != 2 || got.Records < 12 {
			t.Errorf("EraseMember = %+v, want 1 session, 2 tokens and at least 12 records", got)
		}
		if hits := found(); len(hits) > 0 {
			t.Errorf("after erasure the member is still stored:\n%s", strings.Join(hits, "\n"))
		}
	}},
	{"EraseMember/the member, their number and their grants are gone; unstored tokens stay revoked; the number can be taken again", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m, tomb := erasable(t, s)
		must(s.EraseMember(ctx, m.ID, nil, tomb))(t)
		if _, err := s.MemberByID(ctx, m.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("MemberByID after erasure: %v, want ErrNotFound", err)
		}
		if _, err := s.MemberByNumber(ctx, m.Number); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("MemberByNumber after erasure: %v, want ErrNotFound", err)
		}
		for _, id := range []string{"a-erase", "r-erase"} {
			if _, err := s.TokenByID(ctx, id); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("TokenByID(%s) after erasure: %v, want ErrNotFound", id, err)
			}
		}
		unstored := token("a-unstored", storage.AccessToken, m.ID, "c1", "s-erase", "", "")
		unstored.CreatedAt = at(-time.Minute) // issued before the erasure
		if !must(s.TokenRevoked(ctx, unstored))(t) {
			t.Error("an access token issued to the member before erasure is not revoked")
		}
		if _, err := s.SessionByID(ctx, "s-erase"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("SessionByID after erasure: %v, want ErrNotFound", err)
		}
		for _, key := range []string{"login/number/" + m.Number, "otp/member/" + m.ID} {
			if th := must(s.Throttle(ctx, key, at(0)))(t); th.Count != 0 {
				t.Errorf("throttle %s after erasure: %+v, want none", key, th)
			}
		}
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 10))(t)), []string{tomb.ID})
		again := member(9)
		again.Number = m.Number
		ok(t, s.CreateMember(ctx, again))
	}},
	{"EraseMember/erasing someone leaves every other member's records as they were", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m, tomb := erasable(t, s)
		b := bystander(t, s)
		must(s.EraseMember(ctx, m.ID, nil, tomb))(t)
		equal(t, must(s.MemberByID(ctx, b.ID))(t), b)
		equal(t, sessionIDsOf(t, s, b.ID), "s-other")
		must(s.TokenByID(ctx, "r-other"))(t)
		equal(t, eventIDs(must(s.ListEvents(ctx, b.ID, 10))(t)), []string{"ev-other"})
		must(s.OutboxMessageByID(ctx, "mail-other"))(t)
	}},
	{"EraseMember/a NUL in any record (a request's state, a mail's text) stops no erasure, and such records of the member go too", func(t *testing.T, s storage.Store) {
		// Anyone can put a NUL in an authorization request (state, nonce)
		// and a member in their name, which mails carry: PostgreSQL's
		// ->> refuses to turn a \u0000 into text, so an erasure that
		// parsed such rows in SQL failed for every member while one lived.
		ctx := t.Context()
		m, tomb := erasable(t, s)
		b := bystander(t, s)
		theirs := authRequest("ar-nul-other")
		theirs.MemberID, theirs.State = b.ID, "state\x00with a NUL"
		ok(t, s.CreateAuthRequest(ctx, theirs))
		ours := loggedIn(authRequest("ar-nul-erase"))
		ours.MemberID, ours.Nonce = m.ID, "nonce\x00with a NUL"
		ok(t, s.CreateAuthRequest(ctx, ours))
		ok(t, s.SaveAuthCode(ctx, authCode("code-nul-erase", ours.ID)))
		ss := supportSession("support-nul")
		ss.MemberID = m.ID
		ss.Agent = "agent\x00with a NUL"
		ok(t, s.CreateSupportSession(ctx, ss))
		mail := message("mail-nul-erase", storage.OutboxPending, at(0), at(0))
		mail.To, mail.Text = m.Email, "Dear \x00"+m.FamilyNameLatin
		ok(t, s.EnqueueMessage(ctx, mail))
		other := message("mail-nul-other", storage.OutboxPending, at(0), at(0))
		other.To, other.Text = b.Email, "Dear \x00 someone else"
		ok(t, s.EnqueueMessage(ctx, other))

		must(s.EraseMember(ctx, m.ID, nil, tomb))(t)
		_, err := s.AuthRequestByID(ctx, ours.ID)
		isErr(t, err, storage.ErrNotFound)
		_, _, err = s.PeekAuthCode(ctx, "code-nul-erase", at(time.Second))
		isErr(t, err, storage.ErrNotFound)
		_, err = s.OutboxMessageByID(ctx, "mail-nul-erase")
		isErr(t, err, storage.ErrNotFound)
		equal(t, must(s.AuthRequestByID(ctx, theirs.ID))(t).State, theirs.State)
		must(s.OutboxMessageByID(ctx, "mail-nul-other"))(t)
	}},
	{"EraseMember/an unknown member returns ErrNotFound and writes nothing, not even the tombstone", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		tomb := storage.Event{ID: "ev-tomb", Time: at(0), Type: "member.erased", MemberID: "mem-none"}
		if _, err := s.EraseMember(ctx, "mem-none", nil, tomb); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("EraseMember(unknown) = %v, want ErrNotFound", err)
		}
		equal(t, len(must(s.ListEvents(ctx, "mem-none", 10))(t)), 0)
	}},
	{"EraseMember/a taken tombstone id returns ErrAlreadyExists and erases nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m, tomb := erasable(t, s)
		ok(t, s.AppendEvent(ctx, event("ev-taken", "mem-someone", at(0))))
		tomb.ID = "ev-taken"
		if _, err := s.EraseMember(ctx, m.ID, nil, tomb); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Fatalf("EraseMember with a taken event id = %v, want ErrAlreadyExists", err)
		}
		equal(t, must(s.MemberByID(ctx, m.ID))(t).Number, m.Number)
		must(s.TokenByID(ctx, "r-erase"))(t)
	}},
	{"EraseMember/a check that refuses the member as the commit reads it erases nothing and returns its error", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m, tomb := erasable(t, s)
		stale := errors.New("changed since read")
		var seen string
		_, err := s.EraseMember(ctx, m.ID, func(got storage.Member) error {
			seen = got.Number
			return stale
		}, tomb)
		if !errors.Is(err, stale) {
			t.Fatalf("EraseMember with a refusing check = %v, want its error", err)
		}
		equal(t, seen, m.Number)
		equal(t, must(s.MemberByID(ctx, m.ID))(t).Number, m.Number)
		must(s.TokenByID(ctx, "r-erase"))(t)
		equal(t, eventIDs(must(s.ListEvents(ctx, m.ID, 10))(t)), []string{"ev-erase"})
	}},
}
