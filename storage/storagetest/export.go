package storagetest

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
)

// fillEveryKind stores a few records of every kind that Export moves,
// through the roles' own writes, and returns how many of each.
func fillEveryKind(t *testing.T, s storage.Store) map[storage.Kind]int {
	t.Helper()
	ctx := t.Context()
	_ = must(s.Secret(ctx, "hmac", func() ([]byte, error) { return []byte("0123456789abcdef"), nil }))(t)
	ok(t, s.CreateKey(ctx, signingKey("k1", at(0))))
	ok(t, s.CreateClient(ctx, client("web")))
	ok(t, s.CreateClient(ctx, client("app")))
	m1, m2 := member(1), member(2)
	m2.WebAuthnHandle = []byte("handle-2")
	ok(t, s.CreateMember(ctx, m1))
	ok(t, s.CreateMember(ctx, m2))
	ok(t, s.CreatePasskey(ctx, passkey(1, m2.ID)))
	ok(t, s.PutDevice(ctx, device(m1.ID, "d1")))
	ok(t, s.PutConsent(ctx, consent(m1.ID, "app")))
	ok(t, s.CreateSession(ctx, session("s1", m1.ID, "d1")))
	ok(t, s.CreateTokens(ctx, refresh("r1", "f1"), token("r2", storage.RefreshToken, m1.ID, "web", "s1", "f2", "ar2")))
	_ = must(s.RotateRefreshToken(ctx, "r1", at(time.Minute), refresh("r3", "f1")))(t) // r1 consumed
	_ = must(s.DeleteTokens(ctx, storage.TokenFilter{SessionID: "gone-session"}))(t)
	ok(t, s.PutOTP(ctx, otp("o1", m1.ID, "login")))
	ok(t, s.AppendEvent(ctx, event("e1", m1.ID, at(0))))
	ok(t, s.AppendEvent(ctx, event("e2", "", at(time.Second))))
	ok(t, s.EnqueueMessage(ctx, message("msg1", storage.OutboxPending, at(0), at(0))))
	_, reserved, err := s.ReserveSMS(ctx, at(0), 10)
	ok(t, err)
	if !reserved {
		t.Fatal("ReserveSMS did not count")
	}
	return map[storage.Kind]int{
		storage.KindSecrets: 1, storage.KindKeys: 1, storage.KindClients: 2, storage.KindMembers: 2,
		storage.KindPasskeys: 1, storage.KindDevices: 1, storage.KindConsents: 1, storage.KindSessions: 1,
		storage.KindTokens: 3, storage.KindRevocations: 1, storage.KindOTPs: 1, storage.KindEvents: 2,
		storage.KindOutbox: 1, storage.KindSMSCounts: 1,
	}
}

// exportAll returns every record of kind.
func exportAll(t *testing.T, s storage.Store, kind storage.Kind) []any {
	t.Helper()
	var out []any
	ok(t, s.Export(t.Context(), kind, func(v any) error {
		out = append(out, v)
		return nil
	}))
	// Order is the backend's: sort by the printed record for comparisons.
	slices.SortFunc(out, func(a, b any) int { return cmp.Compare(show(a), show(b)) })
	return out
}

// copyAll moves every kind from one store to another as migrate-storage does.
func copyAll(t *testing.T, from, to storage.Store) {
	t.Helper()
	for _, kind := range storage.Kinds {
		if recs := exportAll(t, from, kind); len(recs) > 0 {
			ok(t, to.Import(t.Context(), kind, recs))
		}
	}
}

var exportTests = []test{
	{"Export/every kind is exported whole, with Count agreeing, and records are the roles' own values", func(t *testing.T, s storage.Store) {
		want := fillEveryKind(t, s)
		if len(want) != len(storage.Kinds) {
			t.Fatalf("the case fills %d kinds of %d: fill the new kind", len(want), len(storage.Kinds))
		}
		for _, kind := range storage.Kinds {
			recs := exportAll(t, s, kind)
			if len(recs) != want[kind] {
				t.Errorf("Export(%s): %d records, want %d", kind, len(recs), want[kind])
			}
			if n := must(s.Count(t.Context(), kind))(t); n != want[kind] {
				t.Errorf("Count(%s) = %d, want %d", kind, n, want[kind])
			}
			for _, r := range recs {
				if reflect.TypeOf(r).Kind() != reflect.Struct {
					t.Errorf("Export(%s) gave a %T, want a record value", kind, r)
				}
			}
		}
		got := exportAll(t, s, storage.KindTokens)
		equal(t, got[0].(storage.Token).Consumed, true) // r1, rotated
		rev := exportAll(t, s, storage.KindRevocations)[0].(storage.Revocation)
		equal(t, rev.Filter, storage.TokenFilter{SessionID: "gone-session"})
		sms := exportAll(t, s, storage.KindSMSCounts)[0].(storage.SMSCount)
		equal(t, sms, storage.SMSCount{Minute: at(0).Truncate(storage.SMSMinute), Count: 1})
	}},
	{"Export/an error from fn stops the export and is returned", func(t *testing.T, s storage.Store) {
		fillEveryKind(t, s)
		stop := errors.New("stop")
		calls := 0
		err := s.Export(t.Context(), storage.KindMembers, func(any) error { calls++; return stop })
		isErr(t, err, stop)
		equal(t, calls, 1)
	}},
	{"Export/an unknown kind is an error, not an empty result", func(t *testing.T, s storage.Store) {
		notNil(t, s.Export(t.Context(), "auth_requests", func(any) error { return nil }), "Export of an unknown kind")
		_, err := s.Count(t.Context(), "auth_requests")
		notNil(t, err, "Count of an unknown kind")
	}},
	{"Import/a copy of every kind reads back identical through every role and exports identical", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		src := s
		dst := openSecond(t)
		fillEveryKind(t, src)
		copyAll(t, src, dst)
		for _, kind := range storage.Kinds {
			a, b := exportAll(t, src, kind), exportAll(t, dst, kind)
			if kind == storage.KindRevocations {
				for i := range a { // ExpiresAt is kept to the microsecond
					ra, rb := a[i].(storage.Revocation), b[i].(storage.Revocation)
					ra.ExpiresAt, rb.ExpiresAt = ra.ExpiresAt.Truncate(time.Microsecond), rb.ExpiresAt.Truncate(time.Microsecond)
					a[i], b[i] = ra, rb
				}
			}
			if show(a) != show(b) {
				t.Errorf("%s after the copy:\n got: %s\nwant: %s", kind, show(b), show(a))
			}
		}
		m := member(2)
		m.WebAuthnHandle = []byte("handle-2")
		equal(t, must(dst.MemberByNumber(ctx, m.Number))(t), m)
		equal(t, must(dst.MemberByWebAuthnHandle(ctx, m.WebAuthnHandle))(t), m)
		equal(t, len(must(dst.ListPasskeys(ctx, m.ID))(t)), 1)
		equal(t, string(must(dst.Secret(ctx, "hmac", func() ([]byte, error) { return []byte("other"), nil }))(t)), "0123456789abcdef")
		_, err := dst.RotateRefreshToken(ctx, "r1", at(2*time.Minute), refresh("r4", "f1"))
		isErr(t, err, storage.ErrConsumed) // single use survives the copy
		equal(t, ids(must(dst.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)), "r1,r3")
		equal(t, len(must(dst.ListSessions(ctx, storage.SessionFilter{MemberID: member(1).ID}))(t)), 1)
		equal(t, must(dst.CurrentOTP(ctx, member(1).ID, "login"))(t).ID, "o1")
		equal(t, eventIDs(must(dst.ListEvents(ctx, member(1).ID, 10))(t)), []string{"e1"})
		equal(t, messageIDs(must(dst.DueMessages(ctx, at(time.Hour), 10))(t)), []string{"msg1"})
		equal(t, must(dst.SMSCount(ctx, at(0)))(t), 1)
		wantReserve(t, dst, at(0), 1, 1, false) // the copied count fills a budget of one
	}},
	{"Import/an imported revocation is enforced by TokenRevoked as one DeleteTokens recorded", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.Import(ctx, storage.KindRevocations, []any{storage.Revocation{
			Filter: storage.TokenFilter{MemberID: "m9", ClientID: "web"}, RevokedAt: at(time.Minute), ExpiresAt: at(24 * time.Hour)}}))
		before := token("x1", storage.AccessToken, "m9", "web", "s1", "", "ar1")
		after := before
		after.CreatedAt = at(2 * time.Minute)
		other := before
		other.ClientID = "app"
		equal(t, must(s.TokenRevoked(ctx, before))(t), true)
		equal(t, must(s.TokenRevoked(ctx, after))(t), false)
		equal(t, must(s.TokenRevoked(ctx, other))(t), false)
	}},
	{"Import/a taken key fails the whole batch with ErrAlreadyExists and writes none of it", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(1)))
		err := s.Import(ctx, storage.KindMembers, []any{member(2), member(1)})
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, must(s.Count(ctx, storage.KindMembers))(t), 1)
		_, err = s.MemberByNumber(ctx, member(2).Number)
		isErr(t, err, storage.ErrNotFound)
		err = s.Import(ctx, storage.KindSecrets, []any{storage.NamedSecret{Name: "a", Value: []byte("1")}, storage.NamedSecret{Name: "a", Value: []byte("2")}})
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, must(s.Count(ctx, storage.KindSecrets))(t), 0)
	}},
	{"Import/a record of another type than its kind's is refused and nothing is written", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		err := s.Import(ctx, storage.KindMembers, []any{member(1), client("web")})
		notNil(t, err, "Import of a client as a member")
		equal(t, must(s.Count(ctx, storage.KindMembers))(t), 0)
		notNil(t, s.Import(ctx, storage.KindMembers, []any{ptr(member(1))}), "Import of a pointer")
		notNil(t, s.Import(ctx, "auth_requests", []any{authRequest("ar1")}), "Import of an unknown kind")
	}},
}

// openers holds, for each running case, the open function of its Run, so
// that a case copying between stores can have a second one.
var openers sync.Map // *testing.T → func(*testing.T) storage.Store

// openSecond returns another new, empty store of the case's backend,
// closed when the case ends.
func openSecond(t *testing.T) storage.Store {
	t.Helper()
	open, found := openers.Load(t)
	if !found {
		t.Fatal("storagetest: openSecond outside Run")
	}
	s := open.(func(*testing.T) storage.Store)(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
