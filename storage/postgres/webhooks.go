package postgres

import (
	"context"

	"tsubasa/storage"
)

var webhooks = newTable(table[storage.Webhook]{
	kind:   "webhook",
	key:    []string{"id"},
	keyOf:  func(w *storage.Webhook) []any { return []any{w.ID} },
	colsOf: func(*storage.Webhook) []any { return nil },
}, "webhooks")

// CreateWebhook stores a new subscription.
func (s *Store) CreateWebhook(ctx context.Context, w storage.Webhook) error {
	return createOne(ctx, s, webhooks, w)
}

// WebhookByID returns a subscription.
func (s *Store) WebhookByID(ctx context.Context, id string) (storage.Webhook, error) {
	return getOne(ctx, s, webhooks, id)
}

// ListWebhooks returns every subscription, by id.
func (s *Store) ListWebhooks(ctx context.Context) ([]storage.Webhook, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	return webhooks.list(ctx, s.pool, "SELECT data FROM webhooks ORDER BY id")
}

// DeleteWebhook deletes a subscription.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return deleteOne(ctx, s, webhooks, id)
}
