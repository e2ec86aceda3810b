package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// What the HTTP admin API keeps: the answers of requests made with an
// idempotency key and the jobs it runs, both until they expire, when the
// janitor takes them. Their buckets are late ones (schema.go).

var idempotency = (&table[storage.IdempotencyRecord]{
	kind:   "idempotency record",
	bucket: bIdempotency,
	pk:     func(r *storage.IdempotencyRecord) []byte { return []byte(r.Key) },
	label:  func([]byte) string { return "idempotency record" },
}).withExpiry(bIdempotencyExp, func(r *storage.IdempotencyRecord) (time.Time, bool) { return r.ExpiresAt, true })

var jobs = (&table[storage.Job]{
	kind:   "job",
	bucket: bJobs,
	pk:     func(j *storage.Job) []byte { return []byte(j.ID) },
	indexes: []index[storage.Job]{{
		// By creation, then id: a backward walk lists the newest first.
		name: "created", bucket: bJobsByCreated,
		key: func(pk []byte, j *storage.Job) []byte { return append(appendTimeKey(nil, j.CreatedAt), pk...) },
	}},
}).withExpiry(bJobsExp, func(j *storage.Job) (time.Time, bool) { return j.ExpiresAt, !j.ExpiresAt.IsZero() })

// ReserveIdempotencyKey stores r as the reservation of its key unless a
// live record holds it; see storage.Idempotency.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, r storage.IdempotencyRecord, now time.Time) (storage.IdempotencyRecord, error) {
	var held storage.IdempotencyRecord
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		held = storage.IdempotencyRecord{}
		cur, err := idempotency.get(tx, []byte(r.Key))
		switch {
		case err == nil && !cur.Expired(now):
			held = cur
			return abort(fmt.Errorf("bolt: idempotency key: %w", storage.ErrAlreadyExists))
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
		r.Done = false
		return putTx(tx, idempotency, &r)
	})
	return held, err
}

// CompleteIdempotencyKey stores the answer of a reserved key; see
// storage.Idempotency.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, r storage.IdempotencyRecord) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		cur, err := idempotency.get(tx, []byte(r.Key))
		if err != nil {
			return abort(err)
		}
		if cur.Done {
			return abort(fmt.Errorf("bolt: idempotency key: %w", storage.ErrConsumed))
		}
		r.Done = true
		return putTx(tx, idempotency, &r)
	})
}

// ReleaseIdempotencyKey deletes a reservation that is not done.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, key string) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		cur, err := idempotency.get(tx, []byte(key))
		if errors.Is(err, storage.ErrNotFound) || err == nil && cur.Done {
			return nil
		}
		if err != nil {
			return err
		}
		return idempotency.del(tx, &cur)
	})
}

// CreateJob stores a new job.
func (s *Store) CreateJob(ctx context.Context, j storage.Job) error {
	return createOne(ctx, s, jobs, j)
}

// JobByID returns a job.
func (s *Store) JobByID(ctx context.Context, id string) (storage.Job, error) {
	return getOne(ctx, s, jobs, []byte(id))
}

// UpdateJob applies fn to the job.
func (s *Store) UpdateJob(ctx context.Context, id string, fn func(storage.Job) (storage.Job, error)) error {
	return updateOne(ctx, s, jobs, []byte(id), fn)
}

// ListJobs returns the newest jobs first, at most limit (all when limit
// <= 0).
func (s *Store) ListJobs(ctx context.Context, limit int) ([]storage.Job, error) {
	var out []storage.Job
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		out = nil
		c := tx.Bucket(bJobsByCreated).Cursor()
		for k, pk := c.Last(); k != nil; k, pk = c.Prev() {
			if limit > 0 && len(out) >= limit {
				break
			}
			j, err := jobs.get(tx, pk)
			if err != nil {
				return fmt.Errorf("bolt: index created out of step: %w", err)
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// ListEventsBefore returns the member's events before (before, beforeID),
// newest first; see storage.EventPages. The member index is ordered by
// time then id, so a page is a backward walk from the position.
func (s *Store) ListEventsBefore(ctx context.Context, memberID string, before time.Time, beforeID string, limit int) ([]storage.Event, error) {
	if memberID == "" {
		return nil, errNoMember
	}
	var out []storage.Event
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		out = nil
		prefix := iprefix(memberID)
		end := prefixEnd(prefix)
		if !before.IsZero() {
			end = ikey(memberID, append(appendTimeKey(nil, before), beforeID...))
		}
		c := tx.Bucket(bEventsByMember).Cursor()
		// Position at the first key not before end, then walk back: every
		// key visited is strictly before the position.
		var k, pk []byte
		if end != nil {
			k, _ = c.Seek(end)
		}
		if k == nil {
			k, pk = c.Last()
		} else {
			k, pk = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, pk = c.Prev() {
			if limit > 0 && len(out) >= limit {
				break
			}
			e, err := events.get(tx, pk)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
