package storagetest

import (
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

func event(id, member string, when time.Time) storage.Event {
	return storage.Event{
		ID: id, Time: when, Type: "login.succeeded", MemberID: member, ClientID: "web", DeviceID: "d1",
		IP: "192.0.2.1", UserAgent: "Mozilla/5.0", Method: "pwd", Success: true,
		Detail: map[string]string{"acr": "urn:tsubasa:acr:pwd"},
	}
}

func message(id, state string, next, created time.Time) storage.OutboxMessage {
	return storage.OutboxMessage{
		ID: id, Channel: storage.ChannelEmail, To: "hanako@example.jp", Subject: "新しい端末からのログイン",
		Text: "text", HTML: "<p>html</p>", Purpose: "login_alert", Locale: "ja", State: state,
		NextAttemptAt: next, CreatedAt: created,
	}
}

func messageIDs(ms []storage.OutboxMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func eventIDs(es []storage.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

var eventTests = []test{
	{"AppendEvent/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ok(t, s.AppendEvent(t.Context(), event("e1", "m1", at(0))))
		isErr(t, s.AppendEvent(t.Context(), event("e1", "m1", at(time.Minute))), storage.ErrAlreadyExists)
		equal(t, must(s.ListEvents(t.Context(), "m1", 10))(t), []storage.Event{event("e1", "m1", at(0))})
	}},
	{"ListEvents/returns only the member's events, newest first, at most limit", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		// Appended out of time order, among other members' events.
		for _, e := range []storage.Event{
			event("e3", "m1", at(3*time.Minute)), event("e1", "m1", at(time.Minute)), event("x1", "m2", at(2*time.Minute)),
			event("e5", "m1", at(5*time.Minute)), event("x2", "m10", at(6*time.Minute)), event("e2", "m1", at(2*time.Minute)),
			event("e4", "m1", at(4*time.Minute)), event("x3", "", at(7*time.Minute)),
		} {
			ok(t, s.AppendEvent(ctx, e))
		}
		equal(t, eventIDs(must(s.ListEvents(ctx, "m1", 3))(t)), []string{"e5", "e4", "e3"})
		all := must(s.ListEvents(ctx, "m1", 100))(t)
		equal(t, eventIDs(all), []string{"e5", "e4", "e3", "e2", "e1"})
		equal(t, all[0], event("e5", "m1", at(5*time.Minute)))
		equal(t, eventIDs(must(s.ListEvents(ctx, "m2", 100))(t)), []string{"x1"})
		equal(t, len(must(s.ListEvents(ctx, "m3", 100))(t)), 0)
	}},
}

var outboxTests = []test{
	{"EnqueueMessage/stored message reads back equal", func(t *testing.T, s storage.Store) {
		m := message("o1", storage.OutboxPending, at(0), at(0))
		ok(t, s.EnqueueMessage(t.Context(), m))
		equal(t, must(s.OutboxMessageByID(t.Context(), "o1"))(t), m)
	}},
	{"EnqueueMessage/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ok(t, s.EnqueueMessage(t.Context(), message("o1", storage.OutboxPending, at(0), at(0))))
		isErr(t, s.EnqueueMessage(t.Context(), message("o1", storage.OutboxPending, at(time.Hour), at(0))), storage.ErrAlreadyExists)
	}},
	{"OutboxMessageByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.OutboxMessageByID(t.Context(), "nope")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DueMessages/returns pending messages due at now by NextAttemptAt then CreatedAt, at most limit", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for _, m := range []storage.OutboxMessage{
			message("late", storage.OutboxPending, at(time.Minute), at(-time.Hour)),
			message("p1", storage.OutboxPending, at(-time.Minute), at(-10*time.Minute)),
			message("now", storage.OutboxPending, at(0), at(-time.Hour)),
			message("p2b", storage.OutboxPending, at(-5*time.Minute), at(-5*time.Minute)),
			message("p2a", storage.OutboxPending, at(-5*time.Minute), at(-6*time.Minute)),
			message("sent", storage.OutboxSent, at(-time.Hour), at(-time.Hour)),
			message("failed", storage.OutboxFailed, at(-time.Hour), at(-time.Hour)),
		} {
			ok(t, s.EnqueueMessage(ctx, m))
		}
		equal(t, messageIDs(must(s.DueMessages(ctx, at(0), 10))(t)), []string{"p2a", "p2b", "p1", "now"})
		equal(t, messageIDs(must(s.DueMessages(ctx, at(0), 2))(t)), []string{"p2a", "p2b"})
		equal(t, messageIDs(must(s.DueMessages(ctx, at(-time.Hour), 10))(t)), []string(nil))
		due := must(s.DueMessages(ctx, at(time.Hour), 10))(t)
		equal(t, messageIDs(due), []string{"p2a", "p2b", "p1", "now", "late"})
		equal(t, due[4], message("late", storage.OutboxPending, at(time.Minute), at(-time.Hour)))
	}},
	{"DueMessages/follows NextAttemptAt and State changed by UpdateOutboxMessage", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.EnqueueMessage(ctx, message("m", storage.OutboxPending, at(0), at(0))))
		retry := func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
			m.Attempts++
			m.LastError = "451 try again"
			m.NextAttemptAt = m.NextAttemptAt.Add(10 * time.Minute)
			return m, nil
		}
		ok(t, s.UpdateOutboxMessage(ctx, "m", retry))
		equal(t, len(must(s.DueMessages(ctx, at(9*time.Minute), 10))(t)), 0)
		equal(t, messageIDs(must(s.DueMessages(ctx, at(10*time.Minute), 10))(t)), []string{"m"})
		ok(t, s.UpdateOutboxMessage(ctx, "m", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
			m.State, m.SentAt, m.ExpiresAt = storage.OutboxSent, at(11*time.Minute), at(24*time.Hour)
			return m, nil
		}))
		equal(t, len(must(s.DueMessages(ctx, at(time.Hour), 10))(t)), 0)
		got := must(s.OutboxMessageByID(ctx, "m"))(t)
		want := message("m", storage.OutboxSent, at(10*time.Minute), at(0))
		want.Attempts, want.LastError, want.SentAt, want.ExpiresAt = 1, "451 try again", at(11*time.Minute), at(24*time.Hour)
		equal(t, got, want)
	}},
	{"UpdateOutboxMessage/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, m := t.Context(), message("m", storage.OutboxPending, at(0), at(0))
		ok(t, s.EnqueueMessage(ctx, m))
		err := s.UpdateOutboxMessage(ctx, "m", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
			m.State = storage.OutboxSent
			return m, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.OutboxMessageByID(ctx, "m"))(t), m)
		equal(t, messageIDs(must(s.DueMessages(ctx, at(0), 10))(t)), []string{"m"})
	}},
	{"UpdateOutboxMessage/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateOutboxMessage(t.Context(), "nope", func(m storage.OutboxMessage) (storage.OutboxMessage, error) { return m, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
}

func loginRecord(n int) storage.LoginRecord {
	d := device("m1", fmt.Sprintf("d%d", n))
	alert := message(fmt.Sprintf("alert-%d", n), storage.OutboxPending, at(0), at(0))
	return storage.LoginRecord{Event: event(fmt.Sprintf("e%d", n), "m1", at(time.Duration(n)*time.Minute)), Device: &d, Alert: &alert}
}

var loginTests = []test{
	{"RecordLogin/writes the event, the device and the alert together", func(t *testing.T, s storage.Store) {
		ctx, rec := t.Context(), loginRecord(1)
		ok(t, s.RecordLogin(ctx, rec))
		equal(t, must(s.ListEvents(ctx, "m1", 10))(t), []storage.Event{rec.Event})
		equal(t, must(s.DeviceByID(ctx, "m1", rec.Device.ID))(t), *rec.Device)
		equal(t, must(s.OutboxMessageByID(ctx, rec.Alert.ID))(t), *rec.Alert)
		equal(t, messageIDs(must(s.DueMessages(ctx, at(0), 10))(t)), []string{rec.Alert.ID})
	}},
	{"RecordLogin/without device and alert writes only the event", func(t *testing.T, s storage.Store) {
		ctx, rec := t.Context(), loginRecord(1)
		rec.Device, rec.Alert = nil, nil
		ok(t, s.RecordLogin(ctx, rec))
		equal(t, must(s.ListEvents(ctx, "m1", 10))(t), []storage.Event{rec.Event})
		equal(t, len(must(s.ListDevices(ctx, "m1"))(t)), 0)
		equal(t, len(must(s.DueMessages(ctx, at(time.Hour), 10))(t)), 0)
	}},
	{"RecordLogin/known device is replaced", func(t *testing.T, s storage.Store) {
		ctx, rec := t.Context(), loginRecord(1)
		ok(t, s.PutDevice(ctx, device("m1", rec.Device.ID)))
		rec.Device.LastSeenAt, rec.Alert = at(time.Hour), nil
		ok(t, s.RecordLogin(ctx, rec))
		equal(t, must(s.ListDevices(ctx, "m1"))(t), []storage.Device{*rec.Device})
	}},
	{"RecordLogin/taken alert id returns ErrAlreadyExists and writes nothing", func(t *testing.T, s storage.Store) {
		ctx, rec := t.Context(), loginRecord(1)
		ok(t, s.EnqueueMessage(ctx, *rec.Alert))
		isErr(t, s.RecordLogin(ctx, rec), storage.ErrAlreadyExists)
		equal(t, len(must(s.ListEvents(ctx, "m1", 10))(t)), 0)
		equal(t, len(must(s.ListDevices(ctx, "m1"))(t)), 0)
	}},
	{"RecordLogin/taken event id returns ErrAlreadyExists and writes nothing", func(t *testing.T, s storage.Store) {
		ctx, rec := t.Context(), loginRecord(1)
		ok(t, s.AppendEvent(ctx, rec.Event))
		isErr(t, s.RecordLogin(ctx, rec), storage.ErrAlreadyExists)
		equal(t, len(must(s.ListDevices(ctx, "m1"))(t)), 0)
		_, err := s.OutboxMessageByID(ctx, rec.Alert.ID)
		isErr(t, err, storage.ErrNotFound)
	}},
}
