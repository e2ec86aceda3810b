package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// webhooksSQL reads every subscription; the table holds a handful.
const webhooksSQL = `SELECT data FROM webhooks ORDER BY id`

// createEvent inserts e and, in the same transaction, queues its webhook
// deliveries: the one place every write of an event goes through, so an
// event is delivered if and only if it is committed. The subscriptions
// are read in the transaction, not cached, so that one added or removed
// on any replica is honoured from the next event on; the read is one
// indexless scan of a few rows, and is skipped by nothing else.
func createEvent(ctx context.Context, tx pgx.Tx, e *storage.Event) error {
	if err := events.create(ctx, tx, e); err != nil {
		return err
	}
	subs, err := webhooks.list(ctx, tx, webhooksSQL)
	if err != nil {
		return err
	}
	msgs, err := storage.WebhookMessages(subs, *e)
	if err != nil {
		return err
	}
	for i := range msgs {
		if err := outbox.create(ctx, tx, &msgs[i]); err != nil {
			return err
		}
	}
	return nil
}
