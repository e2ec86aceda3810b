-- Tsubasa schema, version 4: member support sessions (storage/support.go).
-- Times are Unix nanoseconds (bigint), as in version 2.

-- An agent's support session with a member: its state decides whether the
-- agent may make a sensitive support change, so every replica reads and
-- updates the same row (SELECT … FOR UPDATE serialises the updates).
-- expires_ns is the later of the code's expiry and the verified window,
-- when the janitor deletes the row.
CREATE TABLE support_sessions (
    id         text PRIMARY KEY,
    expires_ns bigint NOT NULL,
    data       json NOT NULL
);
CREATE INDEX support_sessions_by_expiry ON support_sessions (expires_ns);
