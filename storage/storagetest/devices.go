package storagetest

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

func device(member, id string) storage.Device {
	return storage.Device{
		ID: id, MemberID: member, Type: "mobile", Model: "iPhone", OS: "iOS", OSVersion: "18.2",
		Browser: "Safari", BrowserVersion: "18.2", FirstSeenAt: at(-time.Hour), LastSeenAt: at(0), LastIP: "192.0.2.7",
		FailedLogins: 1, LastFailedLogin: at(-time.Minute), LockedUntil: at(-30 * time.Second),
	}
}

func byID[T any](id func(T) string) func([]T) []T {
	return func(vs []T) []T {
		slices.SortFunc(vs, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
		return vs
	}
}

var sortDevices = byID(func(d storage.Device) string { return d.ID })

var deviceTests = []test{
	{"PutDevice/stored device reads back equal", func(t *testing.T, s storage.Store) {
		d := device("m1", "d1")
		ok(t, s.PutDevice(t.Context(), d))
		equal(t, must(s.DeviceByID(t.Context(), "m1", "d1"))(t), d)
	}},
	{"PutDevice/same member and id replaces the device", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		d := device("m1", "d1")
		d.LastSeenAt, d.LastIP = at(time.Hour), "198.51.100.1"
		ok(t, s.PutDevice(ctx, d))
		equal(t, must(s.ListDevices(ctx, "m1"))(t), []storage.Device{d})
	}},
	{"DeviceByID/device of another member returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ok(t, s.PutDevice(t.Context(), device("m1", "d1")))
		_, err := s.DeviceByID(t.Context(), "m2", "d1")
		isErr(t, err, storage.ErrNotFound)
		_, err = s.DeviceByID(t.Context(), "m1", "d2")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ListDevices/lists only the member's devices", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for _, d := range []storage.Device{device("m1", "d1"), device("m1", "d2"), device("m10", "d3"), device("m", "d4")} {
			ok(t, s.PutDevice(ctx, d))
		}
		equal(t, sortDevices(must(s.ListDevices(ctx, "m1"))(t)), []storage.Device{device("m1", "d1"), device("m1", "d2")})
		equal(t, len(must(s.ListDevices(ctx, "m2"))(t)), 0)
	}},
	{"UpdateDevice/changes are stored", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		ok(t, s.UpdateDevice(ctx, "m1", "d1", func(d storage.Device) (storage.Device, error) {
			d.FailedLogins, d.LastFailedLogin, d.LockedUntil = 3, at(time.Minute), at(time.Hour)
			return d, nil
		}))
		want := device("m1", "d1")
		want.FailedLogins, want.LastFailedLogin, want.LockedUntil = 3, at(time.Minute), at(time.Hour)
		equal(t, must(s.DeviceByID(ctx, "m1", "d1"))(t), want)
	}},
	{"UpdateDevice/device of another member or unknown id returns ErrNotFound and creates nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		touch := func(d storage.Device) (storage.Device, error) { d.FailedLogins++; return d, nil }
		isErr(t, s.UpdateDevice(ctx, "m2", "d1", touch), storage.ErrNotFound)
		isErr(t, s.UpdateDevice(ctx, "m1", "d2", touch), storage.ErrNotFound)
		equal(t, len(must(s.ListDevices(ctx, "m2"))(t)), 0)
		equal(t, must(s.ListDevices(ctx, "m1"))(t), []storage.Device{device("m1", "d1")})
	}},
	{"UpdateDevice/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		err := s.UpdateDevice(ctx, "m1", "d1", func(d storage.Device) (storage.Device, error) {
			d.FailedLogins = 99
			return d, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.DeviceByID(ctx, "m1", "d1"))(t), device("m1", "d1"))
	}},
	{"UpdateDevice/moving a device to another member or id is refused", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		for _, move := range []func(*storage.Device){
			func(d *storage.Device) { d.MemberID = "m2" },
			func(d *storage.Device) { d.ID = "d2" },
		} {
			if err := s.UpdateDevice(ctx, "m1", "d1", func(d storage.Device) (storage.Device, error) {
				move(&d)
				return d, nil
			}); err == nil {
				t.Error("an update that changes the device's key succeeded")
			}
		}
		equal(t, must(s.DeviceByID(ctx, "m1", "d1"))(t), device("m1", "d1"))
		equal(t, len(must(s.ListDevices(ctx, "m2"))(t)), 0)
	}},
	{"UpdateDevice/100 concurrent increments all apply", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		errs := race(100, func(int) error {
			return s.UpdateDevice(ctx, "m1", "d1", func(d storage.Device) (storage.Device, error) {
				d.FailedLogins++
				return d, nil
			})
		})
		ok(t, errors.Join(errs...))
		equal(t, must(s.DeviceByID(ctx, "m1", "d1"))(t).FailedLogins, 101)
	}},
	{"DeleteDevice/deleted device is gone and no longer listed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutDevice(ctx, device("m1", "d1")))
		ok(t, s.PutDevice(ctx, device("m1", "d2")))
		ok(t, s.DeleteDevice(ctx, "m1", "d1"))
		_, err := s.DeviceByID(ctx, "m1", "d1")
		isErr(t, err, storage.ErrNotFound)
		equal(t, must(s.ListDevices(ctx, "m1"))(t), []storage.Device{device("m1", "d2")})
		isErr(t, s.DeleteDevice(ctx, "m1", "d1"), storage.ErrNotFound)
	}},
}

func passkey(id byte, member string) storage.Passkey {
	return storage.Passkey{
		ID: bytes.Repeat([]byte{id}, 16), MemberID: member, Name: "iPhone",
		PublicKey: []byte("cose-key"), AttestationType: "none", AAGUID: make([]byte, 16),
		SignCount: 1, BackupEligible: true, BackupState: true, UserPresent: true, UserVerified: true,
		Transports: []string{"internal", "hybrid"}, CreatedAt: at(0), LastUsedAt: at(time.Minute),
	}
}

var sortPasskeys = byID(func(p storage.Passkey) string { return string(p.ID) })

var passkeyTests = []test{
	{"CreatePasskey/stored passkey reads back equal and is listed", func(t *testing.T, s storage.Store) {
		p := passkey(1, "m1")
		ok(t, s.CreatePasskey(t.Context(), p))
		equal(t, must(s.PasskeyByID(t.Context(), p.ID))(t), p)
		equal(t, must(s.ListPasskeys(t.Context(), "m1"))(t), []storage.Passkey{p})
	}},
	{"CreatePasskey/credential id of any member returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreatePasskey(ctx, passkey(1, "m1")))
		isErr(t, s.CreatePasskey(ctx, passkey(1, "m2")), storage.ErrAlreadyExists)
		equal(t, len(must(s.ListPasskeys(ctx, "m2"))(t)), 0)
	}},
	{"PasskeyByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.PasskeyByID(t.Context(), []byte("nope"))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ListPasskeys/lists only the member's passkeys", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for _, p := range []storage.Passkey{passkey(1, "m1"), passkey(2, "m2"), passkey(3, "m1")} {
			ok(t, s.CreatePasskey(ctx, p))
		}
		equal(t, sortPasskeys(must(s.ListPasskeys(ctx, "m1"))(t)), []storage.Passkey{passkey(1, "m1"), passkey(3, "m1")})
	}},
	{"UpdatePasskey/sign count and use are stored", func(t *testing.T, s storage.Store) {
		ctx, p := t.Context(), passkey(1, "m1")
		ok(t, s.CreatePasskey(ctx, p))
		ok(t, s.UpdatePasskey(ctx, p.ID, func(p storage.Passkey) (storage.Passkey, error) {
			p.SignCount, p.LastUsedAt = 7, at(time.Hour)
			return p, nil
		}))
		p.SignCount, p.LastUsedAt = 7, at(time.Hour)
		equal(t, must(s.PasskeyByID(ctx, p.ID))(t), p)
	}},
	{"UpdatePasskey/changed member moves the passkey between members", func(t *testing.T, s storage.Store) {
		ctx, p := t.Context(), passkey(1, "m1")
		ok(t, s.CreatePasskey(ctx, p))
		ok(t, s.UpdatePasskey(ctx, p.ID, func(p storage.Passkey) (storage.Passkey, error) { p.MemberID = "m2"; return p, nil }))
		equal(t, len(must(s.ListPasskeys(ctx, "m1"))(t)), 0)
		equal(t, len(must(s.ListPasskeys(ctx, "m2"))(t)), 1)
	}},
	{"UpdatePasskey/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, p := t.Context(), passkey(1, "m1")
		ok(t, s.CreatePasskey(ctx, p))
		err := s.UpdatePasskey(ctx, p.ID, func(p storage.Passkey) (storage.Passkey, error) {
			p.SignCount, p.MemberID = 99, "m2"
			return p, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.PasskeyByID(ctx, p.ID))(t), p)
		equal(t, len(must(s.ListPasskeys(ctx, "m2"))(t)), 0)
	}},
	{"UpdatePasskey/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdatePasskey(t.Context(), []byte("nope"), func(p storage.Passkey) (storage.Passkey, error) { return p, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeletePasskey/deleted passkey is gone, unlisted and its id free", func(t *testing.T, s storage.Store) {
		ctx, p := t.Context(), passkey(1, "m1")
		ok(t, s.CreatePasskey(ctx, p))
		ok(t, s.DeletePasskey(ctx, p.ID))
		_, err := s.PasskeyByID(ctx, p.ID)
		isErr(t, err, storage.ErrNotFound)
		equal(t, len(must(s.ListPasskeys(ctx, "m1"))(t)), 0)
		isErr(t, s.DeletePasskey(ctx, p.ID), storage.ErrNotFound)
		ok(t, s.CreatePasskey(ctx, passkey(1, "m2")))
	}},
}

func consent(member, client string) storage.Consent {
	return storage.Consent{MemberID: member, ClientID: client, Scopes: []string{"openid", "miles"}, CreatedAt: at(0), UpdatedAt: at(0)}
}

var sortConsents = byID(func(c storage.Consent) string { return c.ClientID })

var consentTests = []test{
	{"PutConsent/stored consent reads back equal", func(t *testing.T, s storage.Store) {
		c := consent("m1", "app")
		ok(t, s.PutConsent(t.Context(), c))
		equal(t, must(s.ConsentByID(t.Context(), "m1", "app"))(t), c)
	}},
	{"PutConsent/same member and client replaces the consent", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutConsent(ctx, consent("m1", "app")))
		c := consent("m1", "app")
		c.Scopes, c.UpdatedAt = []string{"openid"}, at(time.Hour)
		ok(t, s.PutConsent(ctx, c))
		equal(t, must(s.ListConsents(ctx, "m1"))(t), []storage.Consent{c})
	}},
	{"ConsentByID/missing consent returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ok(t, s.PutConsent(t.Context(), consent("m1", "app")))
		_, err := s.ConsentByID(t.Context(), "m2", "app")
		isErr(t, err, storage.ErrNotFound)
		_, err = s.ConsentByID(t.Context(), "m1", "other")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ListConsents/lists only the member's consents", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for _, c := range []storage.Consent{consent("m1", "a"), consent("m2", "a"), consent("m1", "b"), consent("m11", "c")} {
			ok(t, s.PutConsent(ctx, c))
		}
		equal(t, sortConsents(must(s.ListConsents(ctx, "m1"))(t)), []storage.Consent{consent("m1", "a"), consent("m1", "b")})
	}},
	{"DeleteConsent/deleted consent is gone and no longer listed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutConsent(ctx, consent("m1", "a")))
		ok(t, s.PutConsent(ctx, consent("m1", "b")))
		ok(t, s.DeleteConsent(ctx, "m1", "a"))
		_, err := s.ConsentByID(ctx, "m1", "a")
		isErr(t, err, storage.ErrNotFound)
		equal(t, must(s.ListConsents(ctx, "m1"))(t), []storage.Consent{consent("m1", "b")})
		isErr(t, s.DeleteConsent(ctx, "m1", "a"), storage.ErrNotFound)
	}},
}
