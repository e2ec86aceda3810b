package postgres

import (
	"context"
	"errors"
	"time"
)

// deleteEventsSQL deletes up to $4 events older than ($1, $2) whose type
// is not among $3, oldest first: the inner select walks events_by_time
// (migrations/0009_events_by_time.sql) from its start, and ORDER BY with
// LIMIT keep the planner on it whatever it estimates. SKIP LOCKED lets
// the janitors of several replicas share the work instead of waiting for
// each other. The type is read from the row, so a kept event is passed
// over, not counted against the limit.
const deleteEventsSQL = `DELETE FROM events WHERE id = ANY (ARRAY(SELECT id FROM events
WHERE (at, at_ns) < ($1, $2) AND NOT ((data->>'Type') = ANY ($3::text[]))
ORDER BY at, at_ns LIMIT $4 FOR UPDATE SKIP LOCKED))`

// DeleteEventsBefore deletes up to limit events older than cutoff whose
// type is not in keep, oldest first, in one statement; see
// storage.EventRetention.
func (s *Store) DeleteEventsBefore(ctx context.Context, cutoff time.Time, keep []string, limit int) (int, error) {
	if limit <= 0 {
		return 0, errRetentionLimit
	}
	if err := s.live(ctx); err != nil {
		return 0, err
	}
	if keep == nil {
		keep = []string{} // NULL would make NOT (type = ANY (NULL)) NULL: nothing deleted
	}
	tag, err := s.pool.Exec(ctx, deleteEventsSQL, cutoff, ns(cutoff), keep, limit)
	if err != nil {
		return 0, wrap("delete events before", err)
	}
	n := int(tag.RowsAffected())
	if n > 0 {
		s.log.Debug("events past retention deleted", "count", n)
	}
	return n, nil
}

var errRetentionLimit = errors.New("postgres: delete events before: limit must be positive")
