package bolt

import (
	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// putEvent appends e and, in the same transaction, queues its webhook
// deliveries: the one place every write of an event goes through, so an
// event is delivered if and only if it is stored. The subscriptions are
// read in the transaction (a handful of records), so one added or
// removed is honoured from the next event on, with no cache to go stale.
func putEvent(tx *bbolt.Tx, e *storage.Event) error {
	if err := events.put(tx, nil, e); err != nil {
		return err
	}
	var subs []storage.Webhook
	if tx.Bucket(bWebhooks) != nil { // none in a file opened read-only before it existed
		var err error
		if subs, err = webhooks.byPrefix(tx, nil); err != nil {
			return err
		}
	}
	msgs, err := storage.WebhookMessages(subs, *e)
	if err != nil {
		return err
	}
	for i := range msgs {
		if err := outbox.put(tx, nil, &msgs[i]); err != nil {
			return err
		}
	}
	return nil
}
