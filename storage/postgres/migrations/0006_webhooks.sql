-- Tsubasa schema, version 6: the back office's webhook subscriptions
-- (storage/webhooks.go). The record holds no secret: each subscription's
-- is derived from the server's key and its id.
CREATE TABLE webhooks (
    id   text PRIMARY KEY,
    data json NOT NULL
);
