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
	{"device_grants", expireSQL("device_grants", "id", "expires_at, expires_ns")},
}

// expiringNanos are the tables whose expiry is Unix nanoseconds
// (migrations/0002_shared_state.sql): throttles, single-use claims, and
// counts of login attempts whose lease has lapsed.
var expiringNanos = []struct{ name, sql string }{
	{"throttles", expireNanosSQL("throttles", "key", "expires_ns")},
	{"single_use", expireNanosSQL("single_use", "key", "expires_ns")},
	// A row is locked by its ctid, which the lock keeps from moving.
	{"login_flights", expireNanosSQL("login_flights", "ctid", "until_ns")},
	// The admin API's (migrations/0003_admin.sql); a job without an
	// expiry is NULL, never due.
	{"idempotency", expireNanosSQL("idempotency", "key", "expires_ns")},
	{"jobs", expireNanosSQL("jobs", "id", "expires_ns")},
	{"support_sessions", expireNanosSQL("support_sessions", "id", "expires_ns")},
}

func expireNanosSQL(table, key, expiry string) string {
	return "DELETE FROM " + table + " WHERE " + key + " = ANY (ARRAY(SELECT " + key + " FROM " + table +
		" WHERE " + expiry + " <= $1 ORDER BY " + expiry + " LIMIT " + strconv.Itoa(janitorChunk) + " FOR UPDATE SKIP LOCKED))"
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
		n, err := s.deleteChunks(ctx, e.name, e.sql, now, ns(now))
		total += n
		if err != nil {
			return total, err
		}
	}
	for _, e := range expiringNanos {
		n, err := s.deleteChunks(ctx, e.name, e.sql, nanos(now))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// deleteChunks runs a janitor statement until it deletes less than a
// chunk, and returns how many rows it deleted.
func (s *Store) deleteChunks(ctx context.Context, name, sql string, args ...any) (int, error) {
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, sql, args...)
		if err != nil {
			return total, wrap("delete expired "+name, err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n > 0 {
			s.log.Debug("expired records deleted", "kind", name, "count", n)
		}
		if n < janitorChunk {
			return total, nil
		}
	}
}
