package bolt

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// DeleteEventsBefore deletes up to limit events older than cutoff whose
// type is not in keep, oldest first; see storage.EventRetention.
//
// The events bucket is keyed by event ID, which audit.NewID starts with
// the time in hex nanoseconds: a cursor from the first key meets the
// oldest events first, and the walk stops at the first event (not kept)
// that is not older than cutoff, so a run reads the kept events and what
// it deletes, never the log inside the retention. No index on the time is
// needed, which would cost every event an entry for this alone.
func (s *Store) DeleteEventsBefore(ctx context.Context, cutoff time.Time, keep []string, limit int) (int, error) {
	if limit <= 0 {
		return 0, errRetentionLimit
	}
	// Look first, in a read: a write that deletes nothing would still
	// commit, and fsync, once a minute on every quiet server.
	var pks [][]byte
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		pks, err = retired(tx, cutoff, keep, limit)
		return err
	}); err != nil || len(pks) == 0 {
		return 0, err
	}
	deleted := 0
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		deleted = 0
		for _, pk := range pks {
			// Read again under the writer: what the look found may
			// have gone (another call) since.
			e, err := events.get(tx, pk)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !e.Time.Before(cutoff) || slices.Contains(keep, e.Type) {
				continue
			}
			if err := events.del(tx, &e); err != nil {
				return err
			}
			deleted++
		}
		return nil
	})
	if deleted > 0 {
		s.log.Debug("events past retention deleted", "count", deleted)
	}
	return deleted, err
}

// retired returns the keys of up to limit events, oldest first, that are
// older than cutoff and not of a kept type.
func retired(tx *bbolt.Tx, cutoff time.Time, keep []string, limit int) ([][]byte, error) {
	var pks [][]byte
	c := tx.Bucket(bEvents).Cursor()
	for k, data := c.First(); k != nil && len(pks) < limit; k, data = c.Next() {
		var e storage.Event
		if err := decode(data, &e); err != nil {
			return nil, err
		}
		if slices.Contains(keep, e.Type) {
			continue // the kept stay, and do not stop the walk
		}
		if !e.Time.Before(cutoff) {
			break // from here on the log is inside the retention
		}
		pks = append(pks, append([]byte(nil), k...))
	}
	return pks, nil
}

var errRetentionLimit = errors.New("bolt: delete events before: limit must be positive")
