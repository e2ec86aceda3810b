package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

func webhook(id string) storage.Webhook {
	return storage.Webhook{ID: id, URL: "https://crm.example/hooks/" + id,
		Events: []string{"member.created", "login.succeeded"}, CreatedAt: at(-time.Hour)}
}

var webhookTests = []test{
	{"CreateWebhook/stored subscription reads back equal, its events in the order given", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateWebhook(t.Context(), webhook("wh-1")))
		equal(t, must(s.WebhookByID(t.Context(), "wh-1"))(t), webhook("wh-1"))
	}},
	{"CreateWebhook/duplicate id returns ErrAlreadyExists and keeps the first", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateWebhook(t.Context(), webhook("wh-1")))
		other := webhook("wh-1")
		other.URL = "https://evil.example/"
		isErr(t, s.CreateWebhook(t.Context(), other), storage.ErrAlreadyExists)
		equal(t, must(s.WebhookByID(t.Context(), "wh-1"))(t).URL, webhook("wh-1").URL)
	}},
	{"CreateWebhook/a Shared Signals stream reads back with its stream settings", func(t *testing.T, s storage.Store) {
		w := webhook("wh-ssf")
		w.SSF = &storage.SSFStream{ClientID: "partner-a", Audience: "https://partner-a.example",
			EventsRequested: []string{"https://schemas.openid.net/secevent/caep/event-type/credential-change"},
			Description:     "risk engine", AuthorizationSealed: "c2VhbGVk"}
		ok(t, s.CreateWebhook(t.Context(), w))
		equal(t, must(s.WebhookByID(t.Context(), "wh-ssf"))(t), w)
		equal(t, must(s.ListWebhooks(t.Context()))(t), []storage.Webhook{w})
	}},
	{"ListWebhooks/every subscription, by id", func(t *testing.T, s storage.Store) {
		for _, id := range []string{"wh-b", "wh-a", "wh-c"} {
			ok(t, s.CreateWebhook(t.Context(), webhook(id)))
		}
		got := must(s.ListWebhooks(t.Context()))(t)
		equal(t, got, []storage.Webhook{webhook("wh-a"), webhook("wh-b"), webhook("wh-c")})
	}},
	{"DeleteWebhook/deletes one, then ErrNotFound", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateWebhook(t.Context(), webhook("wh-1")))
		ok(t, s.CreateWebhook(t.Context(), webhook("wh-2")))
		ok(t, s.DeleteWebhook(t.Context(), "wh-1"))
		_, err := s.WebhookByID(t.Context(), "wh-1")
		isErr(t, err, storage.ErrNotFound)
		isErr(t, s.DeleteWebhook(t.Context(), "wh-1"), storage.ErrNotFound)
		equal(t, must(s.ListWebhooks(t.Context()))(t), []storage.Webhook{webhook("wh-2")})
	}},
}
