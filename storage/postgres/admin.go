package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// What the HTTP admin API keeps (migrations/0003_admin.sql): the answers
// of requests made with an idempotency key, each reservation one
// statement so that of concurrent ones on any number of replicas exactly
// one wins, and its jobs.

var idempotency = newTable(table[storage.IdempotencyRecord]{
	kind:   "idempotency record",
	key:    []string{"key"},
	keyOf:  func(r *storage.IdempotencyRecord) []any { return []any{r.Key} },
	cols:   []string{"expires_ns"},
	colsOf: func(r *storage.IdempotencyRecord) []any { return []any{nanos(r.ExpiresAt)} },
	label:  func([]any) string { return "idempotency record" },
}, "idempotency")

var jobs = newTable(table[storage.Job]{
	kind:  "job",
	key:   []string{"id"},
	keyOf: func(j *storage.Job) []any { return []any{j.ID} },
	cols:  []string{"created_ns", "expires_ns"},
	colsOf: func(j *storage.Job) []any {
		var exp *int64
		if !j.ExpiresAt.IsZero() { // zero: kept
			n := nanos(j.ExpiresAt)
			exp = &n
		}
		return []any{nanos(j.CreatedAt), exp}
	},
}, "jobs")

const (
	// reserveSQL inserts the reservation, or replaces an expired record of
	// the key; a live one stays, locked until the transaction ends, and
	// the statement affects no row.
	reserveSQL = `INSERT INTO idempotency (key, expires_ns, data) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET expires_ns = EXCLUDED.expires_ns, data = EXCLUDED.data
WHERE idempotency.expires_ns <= $4`
	listJobsSQL = `SELECT data FROM jobs ORDER BY created_ns DESC, id DESC LIMIT $1`
	// eventsBeforeSQL walks events_by_member backwards from a position.
	eventsBeforeSQL = `SELECT data FROM events WHERE member_id = $1 AND (at, at_ns, id) < ($2, $3, $4)
ORDER BY at DESC, at_ns DESC, id DESC LIMIT $5`
)

// ReserveIdempotencyKey stores r as the reservation of its key unless a
// live record holds it; see storage.Idempotency.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, r storage.IdempotencyRecord, now time.Time) (storage.IdempotencyRecord, error) {
	if err := idempotency.checkKey(&r); err != nil || !storableKeys([]any{r.Key}) {
		return storage.IdempotencyRecord{}, fmt.Errorf("postgres: idempotency key: empty or not storable")
	}
	r.Done = false
	var held storage.IdempotencyRecord
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		held = storage.IdempotencyRecord{}
		args, err := idempotency.args(&r)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, reserveSQL, append(args, nanos(now))...)
		if err != nil {
			return wrap("reserve idempotency key", err)
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		if held, err = idempotency.get(ctx, tx, r.Key); err != nil {
			return err
		}
		return fmt.Errorf("postgres: idempotency key: %w", storage.ErrAlreadyExists)
	})
	return held, err
}

// CompleteIdempotencyKey stores the answer of a reserved key; see
// storage.Idempotency.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, r storage.IdempotencyRecord) error {
	r.Done = true
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := idempotency.updateTx(ctx, tx, []any{r.Key}, func(cur storage.IdempotencyRecord) (storage.IdempotencyRecord, error) {
			if cur.Done {
				return cur, fmt.Errorf("postgres: idempotency key: %w", storage.ErrConsumed)
			}
			return r, nil
		})
		return err
	})
}

// ReleaseIdempotencyKey deletes a reservation that is not done.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, key string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		cur, err := idempotency.lock(ctx, tx, key)
		if errors.Is(err, storage.ErrNotFound) || err == nil && cur.Done {
			return nil
		}
		if err != nil {
			return err
		}
		return idempotency.remove(ctx, tx, key)
	})
}

// CreateJob stores a new job.
func (s *Store) CreateJob(ctx context.Context, j storage.Job) error {
	return createOne(ctx, s, jobs, j)
}

// JobByID returns a job.
func (s *Store) JobByID(ctx context.Context, id string) (storage.Job, error) {
	return getOne(ctx, s, jobs, id)
}

// UpdateJob applies fn to the job.
func (s *Store) UpdateJob(ctx context.Context, id string, fn func(storage.Job) (storage.Job, error)) error {
	return updateOne(ctx, s, jobs, []any{id}, fn)
}

// ListJobs returns the newest jobs first, at most limit (all when limit
// <= 0).
func (s *Store) ListJobs(ctx context.Context, limit int) ([]storage.Job, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	return jobs.list(ctx, s.pool, listJobsSQL, limitOrNull(limit))
}

// ListEventsBefore returns the member's events before (before, beforeID),
// newest first; see storage.EventPages.
func (s *Store) ListEventsBefore(ctx context.Context, memberID string, before time.Time, beforeID string, limit int) ([]storage.Event, error) {
	if before.IsZero() {
		return s.ListEvents(ctx, memberID, limit)
	}
	if memberID == "" {
		return nil, errNoMember
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	if !storable(memberID) || !storable(beforeID) {
		return nil, nil
	}
	return events.list(ctx, s.pool, eventsBeforeSQL, memberID, before.UTC(), ns(before), beforeID, limitOrNull(limit))
}
