package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// The SMS budget (storage.SMSBudget) is one counter per minute in the
// sms_budget bucket, keyed by the minute's timeKey. A reservation reads
// the window's counters, adds one to the current minute's and deletes the
// counters that left the window, in one transaction: the bucket never
// holds more than the 61 minutes of a window plus what went quiet since.

type smsMinute struct {
	Count int
}

// ReserveSMS counts one SMS at now unless limit are counted in its window.
func (s *Store) ReserveSMS(ctx context.Context, now time.Time, limit int) (int, bool, error) {
	if limit <= 0 {
		n, err := s.SMSCount(ctx, now)
		return n, false, err
	}
	// A full window is the common case under attack: answer it from a
	// read, without a commit (and its fsync) that would change nothing.
	used, err := s.SMSCount(ctx, now)
	if err != nil || used >= limit {
		return used, false, err
	}
	var reserved bool
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		reserved = false
		b := tx.Bucket(bSMSBudget)
		n, err := smsWindowCount(b, now)
		if err != nil {
			return err
		}
		used = n
		if n >= limit {
			return nil
		}
		if err := pruneSMSBudget(b, now); err != nil {
			return err
		}
		key := appendTimeKey(nil, now.UTC().Truncate(storage.SMSMinute))
		var cur smsMinute
		if v := b.Get(key); v != nil {
			if err := decode(v, &cur); err != nil {
				return fmt.Errorf("sms budget: %w", err)
			}
		}
		cur.Count++
		data, err := encode(cur)
		if err != nil {
			return err
		}
		if err := b.Put(key, data); err != nil {
			return err
		}
		used, reserved = n+1, true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("bolt: reserve sms: %w", err)
	}
	return used, reserved, nil
}

// SMSCount returns how many SMS the window of now holds.
func (s *Store) SMSCount(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		n, err = smsWindowCount(tx.Bucket(bSMSBudget), now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: sms count: %w", err)
	}
	return n, nil
}

// smsWindowCount sums the counters from the window's first minute up to
// the minute of now (later minutes, from a clock that ran ahead, count too:
// the budget errs on the side of refusing).
func smsWindowCount(b *bbolt.Bucket, now time.Time) (int, error) {
	if b == nil {
		return 0, nil // a file opened read-only before the bucket existed
	}
	n := 0
	c := b.Cursor()
	for k, v := c.Seek(appendTimeKey(nil, storage.SMSWindowStart(now))); k != nil; k, v = c.Next() {
		var m smsMinute
		if err := decode(v, &m); err != nil {
			return 0, fmt.Errorf("sms budget: %w", err)
		}
		n += m.Count
	}
	return n, nil
}

// pruneSMSBudget deletes the counters of minutes before the window of now.
func pruneSMSBudget(b *bbolt.Bucket, now time.Time) error {
	start := appendTimeKey(nil, storage.SMSWindowStart(now))
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, start) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
