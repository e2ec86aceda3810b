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
// on any replica is honoured from the next event on. The read goes in one
// batch with the event's insert: the event costs no round trip more than
// before there were webhooks (the table holds a handful of rows).
func createEvent(ctx context.Context, tx pgx.Tx, e *storage.Event) error {
	subs, err := insertEventReadWebhooks(ctx, tx, e)
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

// insertEventReadWebhooks sends e's insert and the subscriptions' read in
// one round trip.
func insertEventReadWebhooks(ctx context.Context, tx pgx.Tx, e *storage.Event) ([]storage.Webhook, error) {
	if err := events.checkKey(e); err != nil {
		return nil, err
	}
	args, err := events.args(e)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(events.insert, args...)
	b.Queue(webhooksSQL)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, events.execErr(e, err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrap(webhooks.kind, err)
	}
	defer rows.Close()
	var subs []storage.Webhook
	for rows.Next() {
		w, err := webhooks.scan(rows, nil)
		if err != nil {
			return nil, err
		}
		subs = append(subs, w)
	}
	return subs, wrap(webhooks.kind, rows.Err())
}
