package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// ordered is a pending message of ordering key key, created at created.
func ordered(id, key string, created time.Time) storage.OutboxMessage {
	m := message(id, storage.OutboxPending, created, created)
	m.Channel, m.OrderKey = storage.ChannelWebhook, key
	return m
}

func webhookMessages(t *testing.T, s storage.Store) []storage.OutboxMessage {
	t.Helper()
	var out []storage.OutboxMessage
	for _, m := range must(s.DueMessages(t.Context(), at(time.Hour), 0))(t) {
		if m.Channel == storage.ChannelWebhook {
			out = append(out, m)
		}
	}
	return out
}

var webhookDeliveryTests = []test{
	{"AppendEvent/queues, in the same commit, one webhook message per subscription that asks for the event's type", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateWebhook(ctx, storage.Webhook{ID: "wh-a", URL: "https://a.example/", Events: []string{"login.succeeded"}, CreatedAt: at(-time.Hour)}))
		ok(t, s.CreateWebhook(ctx, storage.Webhook{ID: "wh-b", URL: "https://b.example/", Events: []string{"member.created"}, CreatedAt: at(-time.Hour)}))
		e := event("evt-1", "mem-001", at(0))
		ok(t, s.AppendEvent(ctx, e))
		got := webhookMessages(t, s)
		equal(t, messageIDs(got), []string{"evt-1.wh-a"})
		m := got[0]
		equal(t, []string{m.To, m.OrderKey, m.State}, []string{"wh-a", "wh-a/mem-001", storage.OutboxPending})
		b := must(storage.ParseWebhookBody(m))(t)
		equal(t, []string{b.Type, b.ID, b.Data.MemberID}, []string{"login.succeeded", "evt-1", "mem-001"})
		equal(t, b.Timestamp, at(0))
		if strings.Contains(m.Text, "acr") {
			t.Fatalf("body %s carries a detail that is not on the list", m.Text)
		}
	}},
	{"EraseMember/the tombstone queues its webhook messages in the erasure's commit, as every event does", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		m, tomb := erasable(t, s)
		ok(t, s.CreateWebhook(ctx, storage.Webhook{ID: "wh-a", URL: "https://a.example/", Events: []string{tomb.Type}, CreatedAt: at(-time.Hour)}))
		must(s.EraseMember(ctx, m.ID, nil, tomb))(t)
		got := webhookMessages(t, s)
		equal(t, messageIDs(got), []string{tomb.ID + ".wh-a"})
		b := must(storage.ParseWebhookBody(got[0]))(t)
		equal(t, []string{got[0].OrderKey, b.Type, b.Data.MemberID}, []string{"wh-a/" + m.ID, tomb.Type, m.ID})
	}},
	{"UpdateMemberWithEvents/an update that fails queues no webhook message for its events", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateMember(ctx, member(1)))
		ok(t, s.CreateWebhook(ctx, storage.Webhook{ID: "wh-a", URL: "https://a.example/", Events: []string{"login.succeeded"}, CreatedAt: at(-time.Hour)}))
		boom := errors.New("boom")
		err := s.UpdateMemberWithEvents(ctx, member(1).ID, func(m storage.Member) (storage.Member, error) { return m, boom },
			event("evt-1", member(1).ID, at(0)))
		isErr(t, err, boom)
		equal(t, len(webhookMessages(t, s)), 0)
		ok(t, s.UpdateMemberWithEvents(ctx, member(1).ID, func(m storage.Member) (storage.Member, error) { return m, nil },
			event("evt-2", member(1).ID, at(0))))
		equal(t, messageIDs(webhookMessages(t, s)), []string{"evt-2.wh-a"})
	}},
	{"AppendEvent/a deleted subscription gets no message for later events", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateWebhook(ctx, storage.Webhook{ID: "wh-a", URL: "https://a.example/", Events: []string{"login.succeeded"}, CreatedAt: at(-time.Hour)}))
		ok(t, s.AppendEvent(ctx, event("evt-1", "mem-001", at(0))))
		ok(t, s.DeleteWebhook(ctx, "wh-a"))
		ok(t, s.AppendEvent(ctx, event("evt-2", "mem-001", at(time.Second))))
		equal(t, messageIDs(webhookMessages(t, s)), []string{"evt-1.wh-a"})
	}},
	{"ClaimDueMessages/a member's later message is not claimed while an earlier one of the same ordering key is undelivered", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for _, m := range []storage.OutboxMessage{
			ordered("k1-second", "wh/mem-1", at(-time.Minute)),
			ordered("k1-first", "wh/mem-1", at(-2*time.Minute)),
			ordered("k2-only", "wh/mem-2", at(-time.Minute)),
		} {
			ok(t, s.EnqueueMessage(ctx, m))
		}
		lease := at(5 * time.Minute)
		equal(t, messageIDs(must(s.ClaimDueMessages(ctx, at(0), 10, lease))(t)), []string{"k1-first", "k2-only"})
		// k1-first is leased, still pending: k1-second waits even once due.
		equal(t, len(must(s.ClaimDueMessages(ctx, at(time.Minute), 10, at(6*time.Minute)))(t)), 0)
		// Retried later (back-off): still first, still blocking.
		ok(t, s.UpdateOutboxMessage(ctx, "k1-first", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
			m.NextAttemptAt = at(time.Hour)
			return m, nil
		}))
		equal(t, len(must(s.ClaimDueMessages(ctx, at(time.Minute), 10, at(6*time.Minute)))(t)), 0)
		ok(t, s.UpdateOutboxMessage(ctx, "k1-first", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
			m.State, m.SentAt = storage.OutboxSent, at(time.Minute)
			return m, nil
		}))
		equal(t, messageIDs(must(s.ClaimDueMessages(ctx, at(time.Minute), 10, at(6*time.Minute)))(t)), []string{"k1-second"})
	}},
	{"ClaimDueMessages/an earlier message that failed for good unblocks the later ones of its ordering key", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.EnqueueMessage(ctx, ordered("first", "wh/mem-1", at(-2*time.Minute))))
		ok(t, s.EnqueueMessage(ctx, ordered("second", "wh/mem-1", at(-time.Minute))))
		equal(t, messageIDs(must(s.ClaimDueMessages(ctx, at(0), 10, at(time.Minute)))(t)), []string{"first"})
		ok(t, s.UpdateOutboxMessage(ctx, "first", func(m storage.OutboxMessage) (storage.OutboxMessage, error) {
			m.State = storage.OutboxFailed
			return m, nil
		}))
		equal(t, messageIDs(must(s.ClaimDueMessages(ctx, at(0), 10, at(time.Minute)))(t)), []string{"second"})
	}},
}
