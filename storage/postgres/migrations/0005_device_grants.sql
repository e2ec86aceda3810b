-- Tsubasa schema, version 5: device authorization grants (RFC 8628,
-- storage/device.go). The id is the HMAC of the device_code and user_code
-- the HMAC of the normalised user code: neither code is stored. A grant is
-- kept, whatever its state, until it expires, when the janitor takes it.
CREATE TABLE device_grants (
    id         text PRIMARY KEY,
    user_code  text NOT NULL UNIQUE,
    client_id  text NOT NULL,
    expires_at timestamptz NOT NULL,
    expires_ns smallint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX device_grants_by_expiry ON device_grants (expires_at, expires_ns);
