package storagetest

import (
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// What the member-experience features keep: a place on events and
// devices, the passkey offer's times on devices, and the contacts' check
// on members (confirmations, the outstanding link, the test messages'
// throttle, the reminder). Nested structures hold no times, so the
// top-level UTC rule covers them.

func tokyoPlace() storage.Place {
	return storage.Place{Country: "JP",
		Names:  map[string]string{"ja": "日本", "en": "Japan", "zh-Hans": "日本", "zh-Hant": "日本", "ko": "Japan"},
		Cities: map[string]string{"ja": "東京", "en": "Tokyo", "zh-Hans": "东京", "zh-Hant": "东京", "ko": "Tokyo"}}
}

func offeredDevice(member, id string) storage.Device {
	d := device(member, id)
	d.Place = tokyoPlace()
	d.PasskeyOfferedAt, d.PasskeyDeclinedAt = at(-2*time.Hour), at(-time.Hour)
	return d
}

func checkedMember(n int) storage.Member {
	m := member(n)
	m.EmailConfirmedAt, m.PhoneConfirmedAt = at(-48*time.Hour), at(-24*time.Hour)
	m.ContactTests = map[string]string{storage.ChannelEmail: "link-1", storage.ChannelSMS: "link-2"}
	m.ContactTestAt, m.ContactTestCount, m.ContactTestsSince = at(-time.Minute), 2, at(-time.Hour)
	m.ContactReminderAt = at(-72 * time.Hour)
	return m
}

var experienceTests = []test{
	{"Devices/a device's place and passkey offer times read back equal, in UTC", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		d := offeredDevice("m1", "d1")
		roundTrip(t, "put", d, func(v storage.Device) error { return s.PutDevice(ctx, v) },
			func() (storage.Device, error) { return s.DeviceByID(ctx, "m1", "d1") })
		declined := at(time.Hour).In(tokyo())
		ok(t, s.UpdateDevice(ctx, "m1", "d1", func(old storage.Device) (storage.Device, error) {
			old.PasskeyDeclinedAt = declined
			return old, nil
		}))
		got := must(s.DeviceByID(ctx, "m1", "d1"))(t)
		utcOnly(t, got)
		d.PasskeyDeclinedAt = at(time.Hour)
		equal(t, got, d)
	}},
	{"Events/an event's place reads back with it, and through RecordLogin with its device", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		e := event("e1", "m1", at(0))
		e.Place = tokyoPlace()
		ok(t, s.AppendEvent(ctx, e))
		d := offeredDevice("m1", "d1")
		e2 := event("e2", "m1", at(time.Minute))
		e2.Place = storage.Place{Country: "US", Names: map[string]string{"en": "United States"}}
		ok(t, s.RecordLogin(ctx, storage.LoginRecord{Event: e2, Device: &d}))
		equal(t, must(s.ListEvents(ctx, "m1", 10))(t), []storage.Event{e2, e})
		equal(t, must(s.DeviceByID(ctx, "m1", "d1"))(t), d)
	}},
	{"Members/contact confirmations, test throttle, link and reminder read back equal, in UTC", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := checkedMember(1)
		roundTrip(t, "create", m, func(v storage.Member) error { return s.CreateMember(ctx, v) },
			func() (storage.Member, error) { return s.MemberByID(ctx, m.ID) })
		ok(t, s.UpdateMember(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
			delete(old.ContactTests, storage.ChannelSMS)
			old.PhoneConfirmedAt = at(time.Hour).In(tokyo())
			return old, nil
		}))
		got := must(s.MemberByID(ctx, m.ID))(t)
		utcOnly(t, got)
		m.ContactTests = map[string]string{storage.ChannelEmail: "link-1"}
		m.PhoneConfirmedAt = at(time.Hour)
		equal(t, got, m)
	}},
	{"Members/a test message's link is spent by exactly one of many racing confirmations", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m := checkedMember(1)
		ok(t, s.CreateMember(ctx, m))
		errs := race(50, func(i int) error {
			spent := false
			err := s.UpdateMember(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
				if old.ContactTests[storage.ChannelEmail] != "link-1" {
					return old, storage.ErrConsumed
				}
				old.ContactTests = map[string]string{storage.ChannelSMS: old.ContactTests[storage.ChannelSMS]}
				old.EmailConfirmedAt = at(time.Duration(i) * time.Second)
				spent = true
				return old, nil
			})
			if err == nil && !spent {
				return fmt.Errorf("confirmation %d stored without spending the link", i)
			}
			return err
		})
		w := oneWinner(t, errs)
		got := must(s.MemberByID(ctx, m.ID))(t)
		if _, left := got.ContactTests[storage.ChannelEmail]; left || !got.EmailConfirmedAt.Equal(at(time.Duration(w)*time.Second)) {
			t.Errorf("after the race: link left %v, confirmed at %v; want the winner's (%d) time", left, got.EmailConfirmedAt, w)
		}
	}},
}
