package bolt

import (
	"bytes"
	"context"
	"errors"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var events = &table[storage.Event]{
	kind:   "event",
	bucket: bEvents,
	pk:     func(e *storage.Event) []byte { return []byte(e.ID) },
	indexes: []index[storage.Event]{{
		// member, then time, then id: a reverse prefix scan lists a
		// member's events newest first.
		name: "member", bucket: bEventsByMember,
		key: func(pk []byte, e *storage.Event) []byte {
			if e.MemberID == "" {
				return nil
			}
			return ikey(e.MemberID, append(appendTimeKey(nil, e.Time), pk...))
		},
	}},
}

// AppendEvent adds an event to the audit log. A unit holds it (see
// storage.Units).
func (s *Store) AppendEvent(ctx context.Context, e storage.Event) error {
	return s.hold(ctx, func(tx *bbolt.Tx) error {
		if err := events.check(tx, true, &e); err != nil {
			return abort(err)
		}
		return putEvent(tx, &e)
	})
}

// ListEvents returns the member's events, newest first, at most limit (all
// when limit <= 0).
func (s *Store) ListEvents(ctx context.Context, memberID string, limit int) ([]storage.Event, error) {
	if memberID == "" {
		return nil, errNoMember
	}
	var out []storage.Event
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		out = nil
		prefix := iprefix(memberID)
		c := tx.Bucket(bEventsByMember).Cursor()
		// Position after the last key with the prefix, then walk back.
		var k, pk []byte
		if end := prefixEnd(prefix); end != nil {
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

// prefixEnd returns the least key greater than every key with prefix p, or
// nil if there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

var outbox = (&table[storage.OutboxMessage]{
	kind:   "outbox message",
	bucket: bOutbox,
	pk:     func(m *storage.OutboxMessage) []byte { return []byte(m.ID) },
	indexes: []index[storage.OutboxMessage]{{
		// Pending messages by NextAttemptAt, then CreatedAt.
		name: "due", bucket: bOutboxDue,
		key: func(pk []byte, m *storage.OutboxMessage) []byte {
			if m.State != storage.OutboxPending {
				return nil
			}
			return append(appendTimeKey(appendTimeKey(nil, m.NextAttemptAt), m.CreatedAt), pk...)
		},
	}, {
		// Pending messages with an order key, by key, then CreatedAt:
		// the first entry of a key is the one message of it that
		// ClaimDueMessages may hand out.
		name: "order", bucket: bOutboxByOrder,
		key: func(pk []byte, m *storage.OutboxMessage) []byte {
			if m.State != storage.OutboxPending || m.OrderKey == "" {
				return nil
			}
			return ikey(m.OrderKey, append(appendTimeKey(nil, m.CreatedAt), pk...))
		},
	}},
}).withExpiry(bOutboxByExpiry, func(m *storage.OutboxMessage) (time.Time, bool) {
	return m.ExpiresAt, !m.ExpiresAt.IsZero()
})

// EnqueueMessage stores a new outbox message.
func (s *Store) EnqueueMessage(ctx context.Context, m storage.OutboxMessage) error {
	return createOne(ctx, s, outbox, m)
}

// DueMessages returns pending messages whose NextAttemptAt is not after
// now, by NextAttemptAt then CreatedAt, at most limit (all when limit <= 0).
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) ([]storage.OutboxMessage, error) {
	var out []storage.OutboxMessage
	end := appendTimeKey(nil, now)
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		out = nil
		c := tx.Bucket(bOutboxDue).Cursor()
		for k, pk := c.First(); k != nil && bytes.Compare(k[:timeKeyLen], end) <= 0; k, pk = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			m, err := outbox.get(tx, pk)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// ClaimDueMessages returns the messages DueMessages would, but for those
// behind an earlier pending message of their OrderKey, and moves their
// NextAttemptAt to leaseUntil in the same commit; see storage.Outbox. One
// process owns the file, and its writes are serialised, so concurrent
// claimers get disjoint messages.
func (s *Store) ClaimDueMessages(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]storage.OutboxMessage, error) {
	if !leaseUntil.After(now) {
		return nil, errLease
	}
	// Workers poll: answer "nothing due" from a read, without a commit
	// (and its fsync) that would change nothing.
	var found bool
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		due, err := claimable(tx, now, 1)
		found = len(due) > 0
		return err
	}); err != nil || !found {
		return nil, err
	}
	var out []storage.OutboxMessage
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = nil
		due, err := claimable(tx, now, limit)
		if err != nil {
			return err
		}
		// Moved after the walk: each put moves the message's entry in
		// the index the cursor is on.
		for i := range due {
			old := outbox.keys(&due[i])
			due[i].NextAttemptAt = leaseUntil.UTC()
			if err := outbox.put(tx, old, &due[i]); err != nil {
				return err
			}
		}
		out = due
		return nil
	})
	return out, err
}

// claimable walks the due index and returns at most limit messages (all
// when limit <= 0) that are due at now and first of their order key.
func claimable(tx *bbolt.Tx, now time.Time, limit int) ([]storage.OutboxMessage, error) {
	var due []storage.OutboxMessage
	end := appendTimeKey(nil, now)
	c := tx.Bucket(bOutboxDue).Cursor()
	for k, pk := c.First(); k != nil && bytes.Compare(k[:timeKeyLen], end) <= 0; k, pk = c.Next() {
		if limit > 0 && len(due) >= limit {
			break
		}
		m, err := outbox.get(tx, pk)
		if err != nil {
			return nil, err
		}
		if m.OrderKey != "" && !firstOfOrder(tx, m.OrderKey, pk) {
			continue
		}
		due = append(due, m)
	}
	return due, nil
}

// firstOfOrder reports whether pk is the earliest pending message of key.
func firstOfOrder(tx *bbolt.Tx, key string, pk []byte) bool {
	b := tx.Bucket(bOutboxByOrder)
	if b == nil { // a file opened read-only before the bucket existed
		return true
	}
	prefix := iprefix(key)
	k, v := b.Cursor().Seek(prefix)
	return k == nil || !bytes.HasPrefix(k, prefix) || bytes.Equal(v, pk)
}

var errLease = errors.New("bolt: claim due messages: the lease must end after now")

// OutboxMessageByID returns one message.
func (s *Store) OutboxMessageByID(ctx context.Context, id string) (storage.OutboxMessage, error) {
	return getOne(ctx, s, outbox, []byte(id))
}

// UpdateOutboxMessage applies fn to the message.
func (s *Store) UpdateOutboxMessage(ctx context.Context, id string, fn func(storage.OutboxMessage) (storage.OutboxMessage, error)) error {
	return updateOne(ctx, s, outbox, []byte(id), fn)
}

// RecordLogin writes the event, the device and the alert in one commit, or
// nothing. A unit holds it when there is no alert (see storage.Units): an
// alert is committed at once, for the outbox worker to find it.
func (s *Store) RecordLogin(ctx context.Context, rec storage.LoginRecord) error {
	write := s.hold
	if rec.Alert != nil {
		write = s.write
	}
	return write(ctx, func(tx *bbolt.Tx) error {
		// Check everything before the first write, so that an abort
		// leaves nothing behind.
		e := rec.Event
		if err := events.check(tx, true, &e); err != nil {
			return abort(err)
		}
		var alert storage.OutboxMessage
		if rec.Alert != nil {
			alert = *rec.Alert
			if err := outbox.check(tx, true, &alert); err != nil {
				return abort(err)
			}
		}
		var device storage.Device
		if rec.Device != nil {
			device = *rec.Device
			if err := devices.check(tx, false, &device); err != nil {
				return abort(err)
			}
		}
		if err := putEvent(tx, &e); err != nil {
			return err
		}
		if rec.Device != nil {
			if err := noAbort(putTx(tx, devices, &device)); err != nil {
				return err
			}
		}
		if rec.Alert != nil {
			return outbox.put(tx, nil, &alert)
		}
		return nil
	})
}
