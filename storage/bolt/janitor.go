package bolt

import (
	"context"
	"time"

	"go.etcd.io/bbolt"
)

// expirer is a table with an expiry index.
type expirer interface {
	due(tx *bbolt.Tx, now time.Time) bool
	deleteExpired(tx *bbolt.Tx, now time.Time, limit int) (deleted, visited int, err error)
}

var expiring = []struct {
	name string
	t    expirer
}{
	{"auth_requests", authRequests},
	{"auth_codes", authCodes},
	{"tokens", tokens},
	{"sessions", sessions},
	{"otps", otps},
	{"outbox", outbox},
	{"pushed_requests", pushedRequests},
	{"used_jtis", usedJTIs},
	{"idempotency", idempotency},
	{"jobs", jobs},
	{"support_sessions", supportSessions},
	{"device_grants", deviceGrants},
}

// janitorChunk bounds how many records one commit of DeleteExpired
// removes, so that the janitor never holds the writer for long.
const janitorChunk = 1000

// DeleteExpired deletes every record whose ExpiresAt is not after now,
// with its index entries, and returns how many. Each kind is read through
// its expiry index, so only what is due is visited.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := s.pending.deleteExpired(now) + s.limits.deleteExpired(now)
	n, err := s.deleteExpiredRevocations(ctx, now)
	if err != nil {
		return total, err
	}
	total += n
	for _, e := range expiring {
		for {
			// Look first: a write with nothing to delete would still
			// commit, and fsync, when no other write shares its batch.
			var due bool
			if err := s.read(ctx, func(tx *bbolt.Tx) error { due = e.t.due(tx, now); return nil }); err != nil {
				return total, err
			}
			if !due {
				break
			}
			var deleted, visited int
			err := s.write(ctx, func(tx *bbolt.Tx) error {
				var err error
				deleted, visited, err = e.t.deleteExpired(tx, now, janitorChunk)
				return err
			})
			if err != nil {
				return total, err
			}
			total += deleted
			if deleted > 0 {
				s.log.Debug("expired records deleted", "kind", e.name, "count", deleted)
			}
			if visited < janitorChunk {
				break
			}
		}
	}
	return total, nil
}
