package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// The SMS budget (storage.SMSBudget) is one counter per minute in
// sms_budget. A reservation locks the table against other reservations
// (SHARE ROW EXCLUSIVE conflicts with itself, not with plain reads), sums
// the window, counts one more in the current minute and deletes the
// minutes that left the window, in one transaction: check and count are
// one step for every replica together.

const (
	smsCountSQL   = "SELECT coalesce(sum(count), 0) FROM sms_budget WHERE minute >= $1"
	smsLockSQL    = "LOCK TABLE sms_budget IN SHARE ROW EXCLUSIVE MODE"
	smsReserveSQL = `INSERT INTO sms_budget (minute, count) VALUES ($1, 1)
ON CONFLICT (minute) DO UPDATE SET count = sms_budget.count + 1`
	smsPruneSQL = "DELETE FROM sms_budget WHERE minute < $1"
)

// ReserveSMS counts one SMS at now unless limit are counted in its window.
func (s *Store) ReserveSMS(ctx context.Context, now time.Time, limit int) (int, bool, error) {
	// A full window is the common case under attack: answer it from a
	// read, without taking the lock.
	used, err := s.SMSCount(ctx, now)
	if err != nil || limit <= 0 || used >= limit {
		return used, false, err
	}
	var reserved bool
	start := storage.SMSWindowStart(now)
	err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		reserved = false
		if _, err := tx.Exec(ctx, smsLockSQL); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, smsCountSQL, start).Scan(&n); err != nil {
			return err
		}
		used = n
		if n >= limit {
			return nil
		}
		if _, err := tx.Exec(ctx, smsPruneSQL, start); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, smsReserveSQL, now.UTC().Truncate(storage.SMSMinute)); err != nil {
			return err
		}
		used, reserved = n+1, true
		return nil
	})
	if err != nil {
		return 0, false, wrap("reserve sms", err)
	}
	return used, reserved, nil
}

// SMSCount returns how many SMS the window of now holds (later minutes,
// from a clock that ran ahead, count too: the budget errs on the side of
// refusing).
func (s *Store) SMSCount(ctx context.Context, now time.Time) (int, error) {
	if err := s.live(ctx); err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, smsCountSQL, storage.SMSWindowStart(now)).Scan(&n); err != nil {
		return 0, wrap("sms count", err)
	}
	return n, nil
}
