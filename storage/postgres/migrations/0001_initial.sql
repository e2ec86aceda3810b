-- Tsubasa schema, version 1.
--
-- Every table keeps the whole record as JSON in data (as storage/bolt does:
-- exact round trips of nanosecond times, nil and empty slices, nil
-- pointers) and, beside it, the columns that lookups, filters, uniqueness
-- and expiry need. Those columns are written from the record at every
-- write, except consumed (auth_codes, tokens), which the single-use claims
-- set by themselves and which then wins over data.
--
-- Times that SQL compares or orders by are two columns: a timestamptz
-- (microseconds) and the nanoseconds below it (_ns, 0 to 999), compared as
-- a row, so that SQL decides exactly as the record's time.Time would.
-- Empty strings of the record are NULL here, as bolt leaves empty values
-- out of its indexes.

CREATE TABLE members (
    id              text PRIMARY KEY,
    number          text UNIQUE,
    webauthn_handle bytea UNIQUE,
    data            json NOT NULL
);

CREATE TABLE clients (
    id   text PRIMARY KEY,
    data json NOT NULL
);

CREATE TABLE signing_keys (
    id   text PRIMARY KEY,
    data json NOT NULL
);

CREATE TABLE secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_requests (
    id         text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    expires_ns smallint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX auth_requests_by_expiry ON auth_requests (expires_at, expires_ns);

CREATE TABLE auth_codes (
    hash            text PRIMARY KEY,
    auth_request_id text NOT NULL,
    consumed        boolean NOT NULL,
    expires_at      timestamptz NOT NULL,
    expires_ns      smallint NOT NULL,
    data            json NOT NULL
);
CREATE INDEX auth_codes_by_expiry ON auth_codes (expires_at, expires_ns);

CREATE TABLE tokens (
    id              text PRIMARY KEY,
    kind            text NOT NULL,
    member_id       text,
    client_id       text,
    session_id      text,
    family_id       text,
    auth_request_id text,
    consumed        boolean NOT NULL,
    expires_at      timestamptz NOT NULL,
    expires_ns      smallint NOT NULL,
    data            json NOT NULL
);
CREATE INDEX tokens_by_member ON tokens (member_id);
CREATE INDEX tokens_by_client ON tokens (client_id);
CREATE INDEX tokens_by_session ON tokens (session_id);
CREATE INDEX tokens_by_family ON tokens (family_id);
CREATE INDEX tokens_by_auth_request ON tokens (auth_request_id);
CREATE INDEX tokens_by_expiry ON tokens (expires_at, expires_ns);

-- Revocations of tokens that are not stored (self-contained access tokens):
-- the canonical key of a DeleteTokens filter, the set of its fields
-- (shape), and the latest time it was revoked.
CREATE TABLE token_revocations (
    key        bytea PRIMARY KEY,
    shape      smallint NOT NULL,
    revoked_at timestamptz NOT NULL,
    revoked_ns smallint NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX token_revocations_by_expiry ON token_revocations (expires_at);

CREATE TABLE sessions (
    id         text PRIMARY KEY,
    member_id  text,
    device_id  text,
    expires_at timestamptz NOT NULL,
    expires_ns smallint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX sessions_by_member_device ON sessions (member_id, device_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at, expires_ns);

-- At most one outstanding challenge per member and purpose.
CREATE TABLE otps (
    id         text PRIMARY KEY,
    member_id  text,
    purpose    text NOT NULL,
    expires_at timestamptz NOT NULL,
    expires_ns smallint NOT NULL,
    data       json NOT NULL,
    UNIQUE (member_id, purpose)
);
CREATE INDEX otps_by_expiry ON otps (expires_at, expires_ns);

CREATE TABLE devices (
    member_id text NOT NULL,
    id        text NOT NULL,
    data      json NOT NULL,
    PRIMARY KEY (member_id, id)
);

CREATE TABLE passkeys (
    id        bytea PRIMARY KEY,
    member_id text,
    data      json NOT NULL
);
CREATE INDEX passkeys_by_member ON passkeys (member_id);

CREATE TABLE consents (
    member_id text NOT NULL,
    client_id text NOT NULL,
    data      json NOT NULL,
    PRIMARY KEY (member_id, client_id)
);
-- Removing a client deletes every member's consent for it.
CREATE INDEX consents_by_client ON consents (client_id);

-- The audit log: a member's events newest first is a backward scan of
-- events_by_member.
CREATE TABLE events (
    id        text PRIMARY KEY,
    member_id text,
    at        timestamptz NOT NULL,
    at_ns     smallint NOT NULL,
    data      json NOT NULL
);
CREATE INDEX events_by_member ON events (member_id, at, at_ns, id);

-- The outbox: pending messages by due time, then age; finished ones by the
-- time they may be deleted (NULL: kept).
CREATE TABLE outbox (
    id         text PRIMARY KEY,
    state      text NOT NULL,
    next_at    timestamptz NOT NULL,
    next_ns    smallint NOT NULL,
    created_at timestamptz NOT NULL,
    created_ns smallint NOT NULL,
    expires_at timestamptz,
    expires_ns smallint,
    data       json NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_at, next_ns, created_at, created_ns, id) WHERE state = 'pending';
CREATE INDEX outbox_by_expiry ON outbox (expires_at, expires_ns) WHERE expires_at IS NOT NULL;

-- The SMS budget: one counter per minute (storage.SMSBudget).
CREATE TABLE sms_budget (
    minute timestamptz PRIMARY KEY,
    count  integer NOT NULL
);

-- Pushed authorization requests (RFC 9126): claimed once, by their client,
-- kept consumed until they expire so a second use is told from an unknown
-- one.
CREATE TABLE pushed_requests (
    id         text PRIMARY KEY,
    client_id  text NOT NULL,
    consumed   boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    expires_ns smallint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX pushed_requests_by_expiry ON pushed_requests (expires_at, expires_ns);

-- The jtis of client assertions, until the assertions expire.
CREATE TABLE used_jtis (
    key        text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    expires_ns smallint NOT NULL
);
CREATE INDEX used_jtis_by_expiry ON used_jtis (expires_at, expires_ns);
