-- Tsubasa schema: the outbox's ordering key (storage.OutboxMessage.OrderKey).
-- Webhook deliveries of one member to one subscription go out in order:
-- a message is not claimed while an earlier pending one has its key. The
-- index finds that earlier one.
ALTER TABLE outbox ADD COLUMN order_key text;
CREATE INDEX outbox_by_order ON outbox (order_key, created_at, created_ns, id)
    WHERE state = 'pending' AND order_key IS NOT NULL;
