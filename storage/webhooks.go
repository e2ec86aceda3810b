package storage

import (
	"context"
	"time"
)

// Webhook is a back office's subscription to member events (the admin API's
// admin:webhooks): deliveries of the audit events whose types it names go
// to URL, signed with a secret derived from the server's key and ID
// (provider/webhook), so that nothing secret is stored.
type Webhook struct {
	ID  string
	URL string
	// Events are the audit event types delivered (login.succeeded,
	// member.created …), in the order given; never empty.
	Events    []string
	CreatedAt time.Time
}

// Webhooks stores the subscriptions.
type Webhooks interface {
	// CreateWebhook stores a new subscription; ErrAlreadyExists when its
	// id is taken.
	CreateWebhook(ctx context.Context, w Webhook) error
	WebhookByID(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns every subscription, by id.
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook deletes one; ErrNotFound when there is none.
	DeleteWebhook(ctx context.Context, id string) error
}
