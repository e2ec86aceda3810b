package postgres

import (
	"context"
	"strconv"
	"time"
)

// janitorChunk bounds how many rows one statement of DeleteExpired
// deletes, so that no transaction holds many row locks for long.
const janitorChunk = 1000

// expiring lists each table with an expiry: the statement deletes up to
// janitorChunk rows expired at ($1, $2). SKIP LOCKED passes over rows
// another transaction holds (a token being rotated, or another replica's
// janitor at work): they are deleted by a later run, and janitors on
// several replicas share the work instead of waiting for each other.
var expiring = []struct{ name, sql string }{
	{"auth_requests", expireSQL("auth_requests", "id", "expires_at, expires_ns")},
	{"auth_codes", expireSQL("auth_codes", "hash", "expires_at, expires_ns")},
	{"tokens", expireSQL("tokens", "id", "expires_at, expires_ns")},
	{"sessions", expireSQL("sessions", "id", "expires_at, expires_ns")},
	{"otps", expireSQL("otps", "id", "expires_at, expires_ns")},
	// Messages with no ExpiresAt (pending ones, and those kept) are NULL.
	{"outbox", expireSQL("outbox", "id", "expires_at, expires_ns")},
	{"pushed_requests", expireSQL("pushed_requests", "id", "expires_at, expires_ns")},
	{"used_jtis", expireSQL("used_jtis", "key", "expires_at, expires_ns")},
}

func expireSQL(table, key, expiry string) string {
	// The oldest first, through the expiry index (ORDER BY and LIMIT
	// make the planner walk it from the start, whatever it estimates);
	// key = ANY (ARRAY(…)) then deletes them by primary key.
	return "DELETE FROM " + table + " WHERE " + key + " = ANY (ARRAY(SELECT " + key + " FROM " + table +
		" WHERE expires_at IS NOT NULL AND (" + expiry + ") <= ($1, $2) ORDER BY " + expiry +
		" LIMIT " + strconv.Itoa(janitorChunk) + " FOR UPDATE SKIP LOCKED))"
}

// DeleteExpired deletes every record whose ExpiresAt is not after now, and
// the revocations kept long enough, and returns how many. Each table is
// read through its expiry index, so only what is due is visited.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	if err := s.live(ctx); err != nil {
		return 0, err
	}
	total, err := s.deleteExpiredRevocations(ctx, now)
	if err != nil {
		return total, err
	}
	for _, e := range expiring {
		for {
			tag, err := s.pool.Exec(ctx, e.sql, now, ns(now))
			if err != nil {
				return total, wrap("delete expired "+e.name, err)
			}
			n := int(tag.RowsAffected())
			total += n
			if n > 0 {
				s.log.Debug("expired records deleted", "kind", e.name, "count", n)
			}
			if n < janitorChunk {
				break
			}
		}
	}
	return total, nil
}
