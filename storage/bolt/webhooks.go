package bolt

import (
	"context"

	"tsubasa/storage"
)

var webhooks = &table[storage.Webhook]{
	kind:   "webhook",
	bucket: bWebhooks,
	pk:     func(w *storage.Webhook) []byte { return []byte(w.ID) },
}

// CreateWebhook stores a new subscription.
func (s *Store) CreateWebhook(ctx context.Context, w storage.Webhook) error {
	return createOne(ctx, s, webhooks, w)
}

// WebhookByID returns a subscription.
func (s *Store) WebhookByID(ctx context.Context, id string) (storage.Webhook, error) {
	return getOne(ctx, s, webhooks, []byte(id))
}

// ListWebhooks returns every subscription, by id (the bucket's order).
func (s *Store) ListWebhooks(ctx context.Context) ([]storage.Webhook, error) {
	return listAll(ctx, s, webhooks)
}

// DeleteWebhook deletes a subscription.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return deleteOne(ctx, s, webhooks, []byte(id))
}
