package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

var events = newTable(table[storage.Event]{
	kind:   "event",
	key:    []string{"id"},
	keyOf:  func(e *storage.Event) []any { return []any{e.ID} },
	cols:   []string{"member_id", "at", "at_ns"},
	colsOf: func(e *storage.Event) []any { return []any{null(e.MemberID), e.Time, ns(e.Time)} },
}, "events")

// listEventsSQL walks events_by_member backwards: newest first.
const listEventsSQL = `SELECT data FROM events WHERE member_id = $1
ORDER BY at DESC, at_ns DESC, id DESC LIMIT $2`

var (
	errNoMember = errors.New("postgres: member id is required")
	errLease    = errors.New("postgres: claim due messages: the lease must end after now")
)

// AppendEvent adds an event to the audit log. A unit holds it (see
// storage.Units).
func (s *Store) AppendEvent(ctx context.Context, e storage.Event) error {
	return s.hold(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return createEvent(ctx, tx, &e)
	})
}

// appendEvents inserts evs in tx; a taken id fails the transaction.
func appendEvents(ctx context.Context, tx pgx.Tx, evs []storage.Event) error {
	for i := range evs {
		if err := createEvent(ctx, tx, &evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ListEvents returns the member's events, newest first, at most limit (all
// when limit <= 0).
func (s *Store) ListEvents(ctx context.Context, memberID string, limit int) ([]storage.Event, error) {
	if memberID == "" {
		return nil, errNoMember
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	if !storable(memberID) {
		return nil, nil
	}
	var lim *int
	if limit > 0 {
		lim = &limit // NULL is no limit
	}
	return events.list(ctx, s.pool, listEventsSQL, memberID, lim)
}

var outbox = newTable(table[storage.OutboxMessage]{
	kind:  "outbox message",
	key:   []string{"id"},
	keyOf: func(m *storage.OutboxMessage) []any { return []any{m.ID} },
	cols:  []string{"state", "next_at", "next_ns", "created_at", "created_ns", "expires_at", "expires_ns", "order_key"},
	colsOf: func(m *storage.OutboxMessage) []any {
		var exp *time.Time
		var expNS *int16
		if !m.ExpiresAt.IsZero() { // zero: kept until changed
			n := ns(m.ExpiresAt)
			exp, expNS = &m.ExpiresAt, &n
		}
		return []any{m.State, m.NextAttemptAt, ns(m.NextAttemptAt), m.CreatedAt, ns(m.CreatedAt), exp, expNS, null(m.OrderKey)}
	},
}, "outbox")

// dueSQL reads pending messages due at ($1, $2) in order, from the
// outbox_due index; LIMIT NULL is no limit.
const dueSQL = `SELECT data FROM outbox WHERE state = 'pending' AND (next_at, next_ns) <= ($1, $2)
ORDER BY next_at, next_ns, created_at, created_ns, id LIMIT $3`

// claimSQL is dueSQL but for a message behind an earlier pending one of
// its order key (storage.OutboxMessage.OrderKey), found through the
// outbox_by_order index. The earlier one is seen whether or not another
// claimer holds its row lock: it stays pending while it is leased, so a
// later message waits on every replica until it is sent or failed.
const claimSQL = `SELECT data FROM outbox o WHERE o.state = 'pending' AND (o.next_at, o.next_ns) <= ($1, $2)
AND (o.order_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_key = o.order_key
  AND p.state = 'pending' AND (p.created_at, p.created_ns, p.id) < (o.created_at, o.created_ns, o.id)))
ORDER BY o.next_at, o.next_ns, o.created_at, o.created_ns, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED`

// EnqueueMessage stores a new outbox message.
func (s *Store) EnqueueMessage(ctx context.Context, m storage.OutboxMessage) error {
	return createOne(ctx, s, outbox, m)
}

// DueMessages returns pending messages whose NextAttemptAt is not after
// now, by NextAttemptAt then CreatedAt, at most limit (all when limit <= 0).
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) ([]storage.OutboxMessage, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	return outbox.list(ctx, s.pool, dueSQL, now, ns(now), limitOrNull(limit))
}

func limitOrNull(limit int) *int {
	if limit > 0 {
		return &limit
	}
	return nil
}

// ClaimDueMessages is DueMessages for one worker among several, but for
// the messages behind an earlier one of their order key: the due rows
// are locked with SKIP LOCKED, so that concurrent claimers pass over
// each other's, and their NextAttemptAt moves to leaseUntil in the same
// transaction; see storage.Outbox.
func (s *Store) ClaimDueMessages(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]storage.OutboxMessage, error) {
	if !leaseUntil.After(now) {
		return nil, errLease
	}
	var out []storage.OutboxMessage
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		due, err := outbox.list(ctx, tx, claimSQL, now, ns(now), limitOrNull(limit))
		if err != nil {
			return err
		}
		for i := range due {
			due[i].NextAttemptAt = leaseUntil.UTC()
			if err := outbox.exec(ctx, tx, outbox.update, &due[i]); err != nil {
				return err
			}
		}
		out = due
		return nil
	})
	return out, err
}

// OutboxMessageByID returns one message.
func (s *Store) OutboxMessageByID(ctx context.Context, id string) (storage.OutboxMessage, error) {
	return getOne(ctx, s, outbox, id)
}

// UpdateOutboxMessage applies fn to the message.
func (s *Store) UpdateOutboxMessage(ctx context.Context, id string, fn func(storage.OutboxMessage) (storage.OutboxMessage, error)) error {
	return updateOne(ctx, s, outbox, []any{id}, fn)
}

// RecordLogin writes the event, the device and the alert in one
// transaction, or nothing. A unit holds it when there is no alert (see
// storage.Units): an alert is committed at once, for the outbox worker to
// find it.
func (s *Store) RecordLogin(ctx context.Context, rec storage.LoginRecord) error {
	write := s.hold
	if rec.Alert != nil {
		write = s.write
	}
	return write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		e := rec.Event
		if err := createEvent(ctx, tx, &e); err != nil {
			return err
		}
		if rec.Device != nil {
			d := *rec.Device
			if err := devices.put(ctx, tx, &d); err != nil {
				return err
			}
		}
		if rec.Alert != nil {
			a := *rec.Alert
			return outbox.create(ctx, tx, &a)
		}
		return nil
	})
}
