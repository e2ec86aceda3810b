-- Tsubasa schema, version 3: what the HTTP admin API keeps
-- (storage/admin.go). Times are Unix nanoseconds (bigint), as in version 2.

-- Requests made with an Idempotency-Key, by an HMAC of the client and the
-- key: a reservation while the first request runs, then its answer, until
-- they expire.
CREATE TABLE idempotency (
    key        text PRIMARY KEY,
    expires_ns bigint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX idempotency_by_expiry ON idempotency (expires_ns);

-- Jobs (a member import): any replica answers their progress.
CREATE TABLE jobs (
    id         text PRIMARY KEY,
    created_ns bigint NOT NULL,
    expires_ns bigint,
    data       json NOT NULL
);
CREATE INDEX jobs_by_created ON jobs (created_ns, id);
CREATE INDEX jobs_by_expiry ON jobs (expires_ns) WHERE expires_ns IS NOT NULL;
