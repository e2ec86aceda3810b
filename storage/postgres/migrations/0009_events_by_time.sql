-- Tsubasa schema: the audit log's retention (storage.EventRetention). The
-- janitor deletes the oldest events first, a bounded chunk at a time:
-- this index hands them over in time order, so a run reads what it
-- deletes (and the kept erasure tombstones it passes) and never the log
-- inside the retention. events_by_member starts with the member and
-- cannot serve it. Building it reads the events table once, inside the
-- migration's transaction: on a large log, apply the migration
-- (tsubasa migrate, or auto_migrate) when writes may wait that long.
CREATE INDEX events_by_time ON events (at, at_ns);
