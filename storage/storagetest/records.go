package storagetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"tsubasa/storage"
)

// inZone returns v (a record struct) with every time field moved to loc:
// the same instants, written in another zone.
func inZone[T any](v T, loc *time.Location) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		if tm, isTime := rv.Field(i).Interface().(time.Time); isTime {
			rv.Field(i).Set(reflect.ValueOf(tm.In(loc)))
		}
	}
	return v
}

// roundTrip stores a record written in Asia/Tokyo and checks that it reads
// back equal to the UTC original, every time field in UTC.
func roundTrip[T any](t *testing.T, kind string, want T, store func(T) error, load func() (T, error)) {
	t.Helper()
	t.Run(kind, func(t *testing.T) {
		ok(t, store(inZone(want, tokyo())))
		got := must(load())(t)
		utcOnly(t, got)
		equal(t, got, want)
	})
}

var recordTests = []test{
	{"Times/stored in Asia/Tokyo read back as the same instant in UTC", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := member(1)
		m.LockedUntil, m.PhoneLockedUntil = at(time.Hour), at(2*time.Hour)
		roundTrip(t, "member", m, func(v storage.Member) error { return s.CreateMember(ctx, v) },
			func() (storage.Member, error) { return s.MemberByNumber(ctx, m.Number) })
		roundTrip(t, "client", client("web"), func(v storage.Client) error { return s.CreateClient(ctx, v) },
			func() (storage.Client, error) { return s.ClientByID(ctx, "web") })
		r := loggedIn(authRequest("ar-1"))
		roundTrip(t, "auth request", r, func(v storage.AuthRequest) error { return s.CreateAuthRequest(ctx, v) },
			func() (storage.AuthRequest, error) { return s.AuthRequestByID(ctx, r.ID) })
		roundTrip(t, "auth code", consumed(authCode("h", r.ID)), func(v storage.AuthCode) error {
			v.Consumed = false // the load claims it
			return s.SaveAuthCode(ctx, v)
		},
			func() (storage.AuthCode, error) {
				c, _, err := s.ClaimAuthCode(ctx, "h", at(0).In(tokyo()))
				return c, err
			})
		roundTrip(t, "token", refresh("r1", "f1"), func(v storage.Token) error { return s.CreateTokens(ctx, v) },
			func() (storage.Token, error) { return s.TokenByID(ctx, "r1") })
		k := signingKey("k1", at(0))
		k.ActiveAt, k.RetiredAt, k.ExpiresAt = at(time.Minute), at(time.Hour), at(48*time.Hour)
		roundTrip(t, "signing key", k, func(v storage.SigningKey) error { return s.CreateKey(ctx, v) },
			func() (storage.SigningKey, error) {
				ks, err := s.ListKeys(ctx)
				if err != nil || len(ks) != 1 {
					return storage.SigningKey{}, err
				}
				return ks[0], nil
			})
		roundTrip(t, "session", session("s1", "m1", "d1"), func(v storage.Session) error { return s.CreateSession(ctx, v) },
			func() (storage.Session, error) { return s.SessionByID(ctx, "s1") })
		roundTrip(t, "otp", otp("o1", "m1", "login"), func(v storage.OTP) error { return s.PutOTP(ctx, v) },
			func() (storage.OTP, error) { return s.CurrentOTP(ctx, "m1", "login") })
		roundTrip(t, "device", device("m1", "d1"), func(v storage.Device) error { return s.PutDevice(ctx, v) },
			func() (storage.Device, error) { return s.DeviceByID(ctx, "m1", "d1") })
		roundTrip(t, "passkey", passkey(1, "m1"), func(v storage.Passkey) error { return s.CreatePasskey(ctx, v) },
			func() (storage.Passkey, error) { return s.PasskeyByID(ctx, passkey(1, "m1").ID) })
		roundTrip(t, "consent", consent("m1", "app"), func(v storage.Consent) error { return s.PutConsent(ctx, v) },
			func() (storage.Consent, error) { return s.ConsentByID(ctx, "m1", "app") })
		roundTrip(t, "event", event("e1", "m1", at(0)), func(v storage.Event) error { return s.AppendEvent(ctx, v) },
			func() (storage.Event, error) {
				es, err := s.ListEvents(ctx, "m1", 1)
				if err != nil || len(es) != 1 {
					return storage.Event{}, err
				}
				return es[0], nil
			})
		msg := message("o1", storage.OutboxSent, at(0), at(-time.Minute))
		msg.SentAt, msg.ExpiresAt = at(time.Minute), at(24*time.Hour)
		roundTrip(t, "outbox message", msg, func(v storage.OutboxMessage) error { return s.EnqueueMessage(ctx, v) },
			func() (storage.OutboxMessage, error) { return s.OutboxMessageByID(ctx, "o1") })
	}},
	{"Values/nil and empty slices and maps and nil pointers round-trip as given", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		nils := storage.Client{ID: "nils", CreatedAt: at(0)}
		empties := storage.Client{ID: "empties", SecretHash: []byte{}, RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{},
			GrantTypes: []string{}, Scopes: []string{}}
		for _, c := range []storage.Client{nils, empties} {
			ok(t, s.CreateClient(ctx, c))
			equal(t, must(s.ClientByID(ctx, c.ID))(t), c)
		}
		bare := storage.Session{ID: "bare", ExpiresAt: at(time.Hour)}
		emptyData := storage.Session{ID: "empty", Data: map[string]string{}, AMR: []string{}, ExpiresAt: at(time.Hour)}
		for _, sess := range []storage.Session{bare, emptyData} {
			ok(t, s.CreateSession(ctx, sess))
			equal(t, must(s.SessionByID(ctx, sess.ID))(t), sess)
		}
		r := storage.AuthRequest{ID: "bare", ExpiresAt: at(time.Hour)}
		ok(t, s.CreateAuthRequest(ctx, r))
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), r)
	}},
	{"Copies/changing a returned record or a stored argument does not change the store", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m, c, sess := member(1), client("web"), session("s1", "m1", "d1")
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.CreateClient(ctx, c))
		ok(t, s.CreateSession(ctx, sess))
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1")))
		// The caller keeps using its own values after storing them.
		arg := client("web")
		arg.ID = "arg"
		ok(t, s.CreateClient(ctx, arg))
		arg.RedirectURIs[0] = "https://evil.example/"

		gotM := must(s.MemberByID(ctx, m.ID))(t)
		gotM.WebAuthnHandle[0] ^= 0xff
		gotC := must(s.ClientByID(ctx, c.ID))(t)
		gotC.RedirectURIs[0], gotC.SecretHash[0] = "https://evil.example/", 'X'
		gotS := must(s.SessionByID(ctx, sess.ID))(t)
		gotS.Data["csrf"], gotS.AMR[0] = "changed", "changed"
		list := must(s.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)
		list[0].Scopes[0] = "changed"
		clients := must(s.ListClients(ctx))(t)
		for i := range clients {
			clients[i].Scopes[0] = "changed"
		}

		equal(t, must(s.MemberByID(ctx, m.ID))(t), m)
		equal(t, must(s.MemberByWebAuthnHandle(ctx, m.WebAuthnHandle))(t), m)
		equal(t, must(s.ClientByID(ctx, c.ID))(t), c)
		wantArg := client("web")
		wantArg.ID = "arg"
		equal(t, must(s.ClientByID(ctx, "arg"))(t), wantArg)
		equal(t, must(s.SessionByID(ctx, sess.ID))(t), sess)
		equal(t, must(s.TokenByID(ctx, "r1"))(t), refresh("r1", "f1"))
	}},
	{"Close/returns nil and later calls fail", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(1)))
		ok(t, s.Close())
		_, err := s.MemberByID(ctx, member(1).ID)
		notNil(t, err, "MemberByID after Close")
		notNil(t, s.CreateMember(ctx, member(2)), "CreateMember after Close")
	}},
	{"Context/a cancelled context fails the call", func(t *testing.T, s storage.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		isErr(t, s.CreateMember(ctx, member(1)), context.Canceled)
		_, err := s.MemberByID(ctx, member(1).ID)
		isErr(t, err, context.Canceled)
		_, err = s.MemberByID(t.Context(), member(1).ID)
		isErr(t, err, storage.ErrNotFound)
	}},
}
