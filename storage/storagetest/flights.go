package storagetest

import (
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

// lease is the until the attempts of these cases are counted with.
var lease = at(time.Minute)

func enter(t *testing.T, s storage.Store, memberID, deviceID string) storage.LoginFlight {
	t.Helper()
	return must(s.EnterLogin(t.Context(), memberID, deviceID, at(0), lease))(t)
}

var flightTests = []test{
	{"EnterLogin/counts the member's attempts in flight and returns the member", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		for i := 1; i <= 3; i++ {
			f := enter(t, s, m.ID, "")
			equal(t, f.InFlight, i)
			equal(t, f.Member, m)
			if f.Device != nil {
				t.Fatalf("attempt %d counted on device %+v, want the member", i, *f.Device)
			}
		}
	}},
	{"EnterLogin/a device of the member counts on a budget of its own and comes back", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		d := device(m.ID, "d1")
		ok(t, s.PutDevice(ctx, d))
		enter(t, s, m.ID, "")
		f := enter(t, s, m.ID, "d1")
		if f.Device == nil {
			t.Fatal("an attempt from the member's device counted on the member")
		}
		equal(t, *f.Device, d)
		equal(t, f.InFlight, 1)
		equal(t, enter(t, s, m.ID, "").InFlight, 2)
	}},
	{"EnterLogin/a device that is not the member's counts on the member", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.PutDevice(ctx, device("someone-else", "d1")))
		for _, id := range []string{"d1", "unknown", "bad\x00id"} {
			f := enter(t, s, m.ID, id)
			if f.Device != nil {
				t.Fatalf("device %q counted on its own budget", id)
			}
		}
		equal(t, enter(t, s, m.ID, "").InFlight, 4)
	}},
	{"EnterLogin/an unknown member is ErrNotFound and counts nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		_, err := s.EnterLogin(ctx, "nobody", "", at(0), lease)
		isErr(t, err, storage.ErrNotFound)
		_, err = s.EnterLogin(ctx, "no\x00body", "", at(0), lease)
		isErr(t, err, storage.ErrNotFound)
		m := member(1)
		m.ID = "nobody"
		ok(t, s.CreateMember(ctx, m))
		equal(t, enter(t, s, "nobody", "").InFlight, 1)
	}},
	{"EnterLogin/returns the member as the last write left it", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		must(s.MemberByID(ctx, m.ID))(t) // a cache, if any, holds it now
		ok(t, s.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
			m.FailedLogins, m.LockedUntil = 4, at(time.Minute)
			return m, nil
		}))
		f := enter(t, s, m.ID, "")
		equal(t, f.Member.FailedLogins, 4)
		equal(t, f.Member.LockedUntil, at(time.Minute))
	}},
	{"LeaveLogin/uncounts the attempt on its budget only", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		ok(t, s.PutDevice(ctx, device(m.ID, "d1")))
		enter(t, s, m.ID, "")
		enter(t, s, m.ID, "")
		enter(t, s, m.ID, "d1")
		ok(t, s.LeaveLogin(ctx, m.ID, ""))
		equal(t, enter(t, s, m.ID, "").InFlight, 2)
		equal(t, enter(t, s, m.ID, "d1").InFlight, 2)
		for range 5 { // more than were counted: never below nothing
			ok(t, s.LeaveLogin(ctx, m.ID, "d1"))
		}
		equal(t, enter(t, s, m.ID, "d1").InFlight, 1)
	}},
	{"LeaveLogin/under a unit takes effect by the unit's commit at the latest", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		enter(t, s, m.ID, "")
		ctx, commit := s.Begin(t.Context())
		ok(t, s.LeaveLogin(ctx, m.ID, ""))
		ok(t, commit())
		equal(t, enter(t, s, m.ID, "").InFlight, 1)
	}},
	{"EnterLogin/a count lapses once now reaches the latest until of its attempts", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), member(1)
		ok(t, s.CreateMember(ctx, m))
		must(s.EnterLogin(ctx, m.ID, "", at(0), at(time.Minute)))(t)
		must(s.EnterLogin(ctx, m.ID, "", at(time.Second), at(2*time.Minute)))(t)
		f := must(s.EnterLogin(ctx, m.ID, "", at(2*time.Minute-time.Nanosecond), at(3*time.Minute)))(t)
		equal(t, f.InFlight, 3)
		f = must(s.EnterLogin(ctx, m.ID, "", at(3*time.Minute), at(4*time.Minute)))(t)
		equal(t, f.InFlight, 1)
	}},
	{"EnterLogin/50 concurrent attempts get the counts 1 to 50, each once", func(t *testing.T, s storage.Store) {
		m := member(1)
		ok(t, s.CreateMember(t.Context(), m))
		got := make([]int, 50)
		errs := race(50, func(i int) error {
			f, err := s.EnterLogin(t.Context(), m.ID, "", at(0), lease)
			got[i] = f.InFlight
			return err
		})
		for _, err := range errs {
			ok(t, err)
		}
		slices.Sort(got)
		for i, n := range got {
			if n != i+1 {
				t.Fatalf("counts %v, want 1 to 50", got)
			}
		}
	}},
}
