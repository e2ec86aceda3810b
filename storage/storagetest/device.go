package storagetest

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
)

func deviceGrant(id, userCode, client string) storage.DeviceGrant {
	return storage.DeviceGrant{
		ID: id, UserCode: userCode, ClientID: client, Scopes: []string{"openid", "offline_access"},
		Interval: 5 * time.Second, LastPoll: at(0), Status: storage.DevicePending,
		CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}
}

// consume is the token endpoint's single use: an approved grant becomes
// consumed, anything else is refused.
func consume(g storage.DeviceGrant) (storage.DeviceGrant, error) {
	if g.Status != storage.DeviceApproved {
		return g, storage.ErrConsumed
	}
	g.Status = storage.DeviceConsumed
	return g, nil
}

func approve(g storage.DeviceGrant) (storage.DeviceGrant, error) {
	if g.Status != storage.DevicePending {
		return g, storage.ErrConsumed
	}
	g.Status, g.MemberID, g.AMR, g.AuthTime, g.DecidedAt = storage.DeviceApproved, "m1", []string{"pwd", "otp"}, at(time.Minute), at(time.Minute)
	return g, nil
}

var deviceGrantTests = []test{
	{"DeviceGrantByUserCode/returns the grant as stored, times in UTC", func(t *testing.T, s storage.Store) {
		ctx, g := t.Context(), deviceGrant("d1", "u1", "c1")
		g.CreatedAt, g.ExpiresAt, g.LastPoll = g.CreatedAt.In(tokyo()), g.ExpiresAt.In(tokyo()), g.LastPoll.In(tokyo())
		ok(t, s.CreateDeviceGrant(ctx, g))
		got := must(s.DeviceGrantByUserCode(ctx, "u1", at(time.Second)))(t)
		utcOnly(t, got)
		want := deviceGrant("d1", "u1", "c1")
		equal(t, got, want)
	}},
	{"CreateDeviceGrant/a taken id or user code returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		isErr(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u2", "c1")), storage.ErrAlreadyExists)
		isErr(t, s.CreateDeviceGrant(ctx, deviceGrant("d2", "u1", "c2")), storage.ErrAlreadyExists)
		// The refused grants left nothing behind: their other keys are free.
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d2", "u2", "c2")))
	}},
	{"DeviceGrantByUserCode/unknown or expired at now returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		_, err := s.DeviceGrantByUserCode(ctx, "nope", at(0))
		isErr(t, err, storage.ErrNotFound)
		_, err = s.DeviceGrantByUserCode(ctx, "u1", at(10*time.Minute))
		isErr(t, err, storage.ErrNotFound)
		must(s.DeviceGrantByUserCode(ctx, "u1", at(10*time.Minute-time.Nanosecond)))(t)
	}},
	{"UpdateDeviceGrant/stores and returns what fn returns; the user code finds it", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		got := must(s.UpdateDeviceGrant(ctx, "d1", at(time.Minute), approve))(t)
		if got.Status != storage.DeviceApproved || got.MemberID != "m1" {
			t.Fatalf("returned %+v, want approved for m1", got)
		}
		stored := must(s.DeviceGrantByUserCode(ctx, "u1", at(time.Minute)))(t)
		equal(t, stored, got)
	}},
	{"UpdateDeviceGrant/an error from fn writes nothing and is returned", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		_, err := s.UpdateDeviceGrant(ctx, "d1", at(0), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
			g.Status = storage.DeviceDenied
			return g, errBoom
		})
		isErr(t, err, errBoom)
		if got := must(s.DeviceGrantByUserCode(ctx, "u1", at(0)))(t); got.Status != storage.DevicePending {
			t.Fatalf("status = %s after a refused update, want pending", got.Status)
		}
	}},
	{"UpdateDeviceGrant/unknown or expired at now returns ErrNotFound without calling fn", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		called := false
		fn := func(g storage.DeviceGrant) (storage.DeviceGrant, error) { called = true; return g, nil }
		_, err := s.UpdateDeviceGrant(ctx, "nope", at(0), fn)
		isErr(t, err, storage.ErrNotFound)
		_, err = s.UpdateDeviceGrant(ctx, "d1", at(10*time.Minute), fn)
		isErr(t, err, storage.ErrNotFound)
		if called {
			t.Fatal("fn was called for an unknown or expired grant")
		}
	}},
	{"UpdateDeviceGrant/50 concurrent consumptions of an approved grant have exactly one winner", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		must(s.UpdateDeviceGrant(ctx, "d1", at(time.Minute), approve))(t)
		oneWinner(t, race(50, func(int) error {
			_, err := s.UpdateDeviceGrant(ctx, "d1", at(2*time.Minute), consume)
			return err
		}))
	}},
	{"UpdateDeviceGrant/100 concurrent increments all count", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		errs := race(100, func(int) error {
			_, err := s.UpdateDeviceGrant(ctx, "d1", at(0), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
				g.Entries++
				return g, nil
			})
			return err
		})
		ok(t, errors.Join(errs...))
		if got := must(s.DeviceGrantByUserCode(ctx, "u1", at(0)))(t); got.Entries != 100 {
			t.Fatalf("Entries = %d after 100 increments", got.Entries)
		}
	}},
	{"DeleteExpired/removes expired device grants and frees their user codes", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		live := deviceGrant("d2", "u2", "c1")
		live.ExpiresAt = at(time.Hour)
		ok(t, s.CreateDeviceGrant(ctx, live))
		if n := must(s.DeleteExpired(ctx, at(10*time.Minute)))(t); n < 1 {
			t.Fatalf("DeleteExpired deleted %d, want the expired grant", n)
		}
		ok(t, s.CreateDeviceGrant(ctx, deviceGrant("d1", "u1", "c1")))
		must(s.DeviceGrantByUserCode(ctx, "u2", at(10*time.Minute)))(t)
	}},
}
