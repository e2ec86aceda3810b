-- Tsubasa schema, version 2: what decides a limit or a single use and used
-- to live in each process's memory (storage/limits.go), now shared by every
-- replica.
--
-- Times here are Unix nanoseconds (bigint), so that SQL compares them
-- exactly as the Go values compare.

-- Rate-limit records (storage.Throttles) under their owner's key: address
-- and unknown-number login throttles, one-time-password resend windows.
CREATE TABLE throttles (
    key        text PRIMARY KEY,
    expires_ns bigint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX throttles_by_expiry ON throttles (expires_ns);

-- Web login attempts in flight (storage.LoginAttempts), per budget: the
-- member's (device_id '') or one of its devices'. The count lapses at
-- until_ns, the latest lease of the attempts counted, so a replica that
-- dies with attempts in flight holds up no budget for long.
CREATE TABLE login_flights (
    member_id text NOT NULL,
    device_id text NOT NULL,
    n         integer NOT NULL,
    until_ns  bigint NOT NULL,
    PRIMARY KEY (member_id, device_id)
);
CREATE INDEX login_flights_by_until ON login_flights (until_ns);

-- Single-use claims (storage.SingleUse): finished passkey ceremonies, the
-- rotation of a generation of signing keys.
CREATE TABLE single_use (
    key        text PRIMARY KEY,
    expires_ns bigint NOT NULL
);
CREATE INDEX single_use_by_expiry ON single_use (expires_ns);
