package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// Limits and single use (storage.Throttles, storage.LoginAttempts,
// storage.SingleUse) in the tables of migrations/0002_shared_state.sql.
// Nothing of them is kept in memory: every replica decides from the rows.
//
//   - UpdateThrottles is one transaction: it inserts an expired
//     placeholder for every key that has no row (ON CONFLICT DO NOTHING,
//     so concurrent first updates of a key meet on its unique index),
//     locks the rows in key order (FOR UPDATE, so two updates of
//     overlapping keys cannot deadlock), applies fn and writes back,
//     outside the request's unit. It commits without waiting for the WAL
//     to reach the disk: a crash of
//     the database may forget the last moment's throttle counts (as a
//     restart of the bolt backend forgets all of them), never a lockout,
//     a failure or a single use, which are stored durably; and a failed
//     login of an unknown number then costs the same flushes as one of a
//     member (their answers must not differ in time).
//   - EnterLogin is one statement (one round trip: no BEGIN, no COMMIT,
//     and outside the request's unit), committed without waiting for the
//     WAL to reach the disk (synchronous_commit off for this transaction
//     alone): a count lost by a crash of the database is one of attempts
//     that were answered with an error, since an attempt's failure is
//     stored, durably, before it is answered. It locks the member's row, and the
//     device's, FOR SHARE, which returns their newest committed version
//     (READ COMMITTED re-reads a row it locks) and keeps a write of them
//     from committing until the statement ends, and it counts the attempt
//     with INSERT … ON CONFLICT DO UPDATE, whose row lock serialises the
//     counts. A failure stored before an attempt left is therefore in the
//     record it returns, and an attempt that has not left is in the count.
//   - ClaimOnce is one statement, the same way: INSERT … ON CONFLICT DO UPDATE … WHERE
//     the claim there has expired, RETURNING: of concurrent claims one
//     inserts, the others wait for its row and find it live.

const (
	throttleSQL       = "SELECT data FROM throttles WHERE key = $1 AND expires_ns > $2"
	asyncCommitSQL    = "SELECT set_config('synchronous_commit', 'off', true)"
	throttleHoldSQL   = "INSERT INTO throttles (key, expires_ns, data) SELECT k, $2, '{}' FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING"
	throttleLockSQL   = "SELECT key, expires_ns, data FROM throttles WHERE key = ANY ($1) ORDER BY key FOR UPDATE"
	throttleWriteSQL  = "UPDATE throttles SET expires_ns = $2, data = $3 WHERE key = $1"
	throttleDeleteSQL = "DELETE FROM throttles WHERE key = $1"

	enterLoginSQL = `WITH async AS (SELECT set_config('synchronous_commit', 'off', true)),
m AS (SELECT data FROM members WHERE id = $1 FOR SHARE),
d AS (SELECT data FROM devices WHERE member_id = $1 AND id = $2 FOR SHARE),
c AS (
	INSERT INTO login_flights AS f (member_id, device_id, n, until_ns)
	SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM d) THEN $2 ELSE '' END, 1, $4
	WHERE EXISTS (SELECT 1 FROM m)
	ON CONFLICT (member_id, device_id) DO UPDATE SET
		n = CASE WHEN f.until_ns <= $3 THEN 1 ELSE f.n + 1 END,
		until_ns = CASE WHEN f.until_ns <= $3 THEN EXCLUDED.until_ns ELSE greatest(f.until_ns, EXCLUDED.until_ns) END
	RETURNING device_id, n)
SELECT (SELECT data FROM m), (SELECT data FROM d), c.device_id, c.n FROM c, async`
	leaveLoginSQL = "UPDATE login_flights SET n = n - 1 WHERE member_id = $1 AND device_id = $2 AND n > 0"

	claimOnceSQL = `INSERT INTO single_use AS u (key, expires_ns) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET expires_ns = EXCLUDED.expires_ns WHERE u.expires_ns <= $3
RETURNING 1`
)

// nanos is t as Unix nanoseconds, clamped to what int64 holds (years 1678
// to 2262), so that the zero time sorts before every real one.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// Throttle returns the record under key as of now.
func (s *Store) Throttle(ctx context.Context, key string, now time.Time) (storage.Throttle, error) {
	if err := checkLimitKey("throttle", key); err != nil {
		return storage.Throttle{}, err
	}
	if err := s.live(ctx); err != nil {
		return storage.Throttle{}, err
	}
	var data []byte
	err := s.pool.QueryRow(ctx, throttleSQL, key, nanos(now)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Throttle{}, nil
	}
	if err != nil {
		return storage.Throttle{}, wrap("throttle", err)
	}
	return decodeThrottle(data)
}

// UpdateThrottles applies fn to the records under keys in one transaction.
func (s *Store) UpdateThrottles(ctx context.Context, now time.Time, keys []string, fn func([]storage.Throttle) ([]storage.Throttle, error)) error {
	if len(keys) == 0 {
		return errors.New("postgres: update throttles: no key")
	}
	for i, k := range keys {
		if err := checkLimitKey("throttle", k); err != nil {
			return err
		}
		if slices.Contains(keys[:i], k) {
			return fmt.Errorf("postgres: update throttles: key %q given twice", k)
		}
	}
	if err := s.live(ctx); err != nil {
		return err
	}
	sorted := slices.Sorted(slices.Values(keys))
	// Outside the request's unit: its held writes must not be carried
	// into a commit that does not wait for the disk.
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		cur, err := lockThrottles(ctx, tx, sorted, now)
		if err != nil {
			return err
		}
		in := make([]storage.Throttle, len(keys))
		for i, k := range keys {
			in[i] = cur[k]
		}
		next, err := fn(in)
		if err != nil {
			return err
		}
		if len(next) != len(keys) {
			return fmt.Errorf("postgres: update throttles: %d records for %d keys", len(next), len(keys))
		}
		b := &pgx.Batch{}
		for i, k := range keys {
			if next[i].Expired(now) {
				b.Queue(throttleDeleteSQL, k)
				continue
			}
			data, err := encodeThrottle(next[i])
			if err != nil {
				return err
			}
			b.Queue(throttleWriteSQL, k, nanos(next[i].ExpiresAt), data)
		}
		return wrap("update throttles", tx.SendBatch(ctx, b).Close())
	})
}

// lockThrottles makes sure every key has a row, locks them in key order
// and returns the records live at now (the zero Throttle for the others),
// in one round trip.
func lockThrottles(ctx context.Context, tx pgx.Tx, sorted []string, now time.Time) (map[string]storage.Throttle, error) {
	b := &pgx.Batch{}
	b.Queue(asyncCommitSQL)
	b.Queue(throttleHoldSQL, sorted, nanos(now))
	b.Queue(throttleLockSQL, sorted)
	res := tx.SendBatch(ctx, b)
	defer res.Close()
	for range 2 {
		if _, err := res.Exec(); err != nil {
			return nil, wrap("update throttles", err)
		}
	}
	rows, err := res.Query()
	if err != nil {
		return nil, wrap("update throttles", err)
	}
	defer rows.Close()
	cur := map[string]storage.Throttle{}
	for rows.Next() {
		var (
			key     string
			expires int64
			data    []byte
		)
		if err := rows.Scan(&key, &expires, &data); err != nil {
			return nil, wrap("update throttles", err)
		}
		if expires <= nanos(now) {
			continue // expired, or the placeholder just inserted
		}
		t, err := decodeThrottle(data)
		if err != nil {
			return nil, err
		}
		cur[key] = t
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("update throttles", err)
	}
	return cur, nil
}

func encodeThrottle(t storage.Throttle) ([]byte, error) {
	t.Times = slices.Clone(t.Times)
	for i := range t.Times {
		t.Times[i] = t.Times[i].UTC()
	}
	data, err := encode(t)
	if err != nil {
		return nil, fmt.Errorf("postgres: throttle: encode: %w", err)
	}
	return data, nil
}

func decodeThrottle(data []byte) (storage.Throttle, error) {
	var t storage.Throttle
	if err := decode(data, &t); err != nil {
		return t, fmt.Errorf("postgres: throttle: %w", err)
	}
	for i := range t.Times {
		t.Times[i] = t.Times[i].UTC()
	}
	return t, nil
}

// checkLimitKey refuses a key PostgreSQL text cannot hold: a limit must
// never pass because its key could not be stored.
func checkLimitKey(what, key string) error {
	if key == "" || !storable(key) {
		return fmt.Errorf("postgres: %s: the key must be non-empty UTF-8 without NUL", what)
	}
	return nil
}

// statement runs fn, one statement, on the pool: a transaction of its
// own, without BEGIN and COMMIT round trips, and outside the context's
// unit (what it counts takes effect at once, whatever the request holds).
// It runs fn again when PostgreSQL aborted it to break a deadlock.
func (s *Store) statement(ctx context.Context, fn func(q querier) error) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	var err error
	for range maxTries {
		if err = fn(s.pool); !retryable(err) {
			break
		}
	}
	return err
}

// EnterLogin counts an attempt in flight and reads its records, in one
// statement (see the top of this file).
func (s *Store) EnterLogin(ctx context.Context, memberID, deviceID string, now, until time.Time) (storage.LoginFlight, error) {
	if err := s.live(ctx); err != nil {
		return storage.LoginFlight{}, err
	}
	if memberID == "" || !storable(memberID) {
		return storage.LoginFlight{}, notFound(members.name([]any{memberID}))
	}
	if !storable(deviceID) {
		deviceID = "" // no device has such an id: the member's budget
	}
	var (
		mdata, ddata []byte
		budget       string
		n            int
	)
	err := s.statement(ctx, func(q querier) error {
		return q.QueryRow(ctx, enterLoginSQL, memberID, deviceID, nanos(now), nanos(until)).Scan(&mdata, &ddata, &budget, &n)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.LoginFlight{}, notFound(members.name([]any{memberID}))
	}
	if err != nil {
		return storage.LoginFlight{}, wrap("enter login", err)
	}
	out := storage.LoginFlight{InFlight: n}
	if err := decode(mdata, &out.Member); err != nil {
		return storage.LoginFlight{}, wrap("enter login: member", err)
	}
	if budget != "" {
		var d storage.Device
		if err := decode(ddata, &d); err != nil {
			return storage.LoginFlight{}, wrap("enter login: device", err)
		}
		out.Device = &d
	}
	return out, nil
}

// LeaveLogin uncounts an attempt; a unit holds it, so a login that
// succeeds leaves in the transaction that commits what it answers with.
func (s *Store) LeaveLogin(ctx context.Context, memberID, deviceID string) error {
	if !storable(memberID) || !storable(deviceID) {
		return s.live(ctx) // nothing was counted under such a key
	}
	return s.hold(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, leaveLoginSQL, memberID, deviceID)
		return wrap("leave login", err)
	})
}

// ClaimOnce claims key until expiresAt unless a live claim holds it.
func (s *Store) ClaimOnce(ctx context.Context, key string, now, expiresAt time.Time) error {
	if err := checkLimitKey("claim", key); err != nil {
		return err
	}
	var claimed bool
	err := s.statement(ctx, func(q querier) error {
		var one int
		err := q.QueryRow(ctx, claimOnceSQL, key, nanos(expiresAt), nanos(now)).Scan(&one)
		claimed = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return wrap("claim", err)
	}
	if !claimed {
		return fmt.Errorf("postgres: claim %q: %w", key, storage.ErrConsumed)
	}
	return nil
}
