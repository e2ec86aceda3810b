package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

// reserve calls ReserveSMS and fails the test on an error.
func reserve(t *testing.T, s storage.Store, now time.Time, limit int) (int, bool) {
	t.Helper()
	used, reserved, err := s.ReserveSMS(t.Context(), now, limit)
	ok(t, err)
	return used, reserved
}

func wantReserve(t *testing.T, s storage.Store, now time.Time, limit, wantUsed int, wantOK bool) {
	t.Helper()
	used, reserved := reserve(t, s, now, limit)
	if used != wantUsed || reserved != wantOK {
		t.Fatalf("ReserveSMS(%s, limit %d) = %d, %v; want %d, %v", now.Format(time.TimeOnly), limit, used, reserved, wantUsed, wantOK)
	}
}

var smsBudgetTests = []test{
	{"ReserveSMS/counts up to the limit and refuses beyond it without counting", func(t *testing.T, s storage.Store) {
		for i := 1; i <= 3; i++ {
			wantReserve(t, s, at(time.Duration(i)*time.Second), 3, i, true)
		}
		wantReserve(t, s, at(4*time.Second), 3, 3, false)
		wantReserve(t, s, at(5*time.Second), 3, 3, false)
		equal(t, must(s.SMSCount(t.Context(), at(6*time.Second)))(t), 3)
	}},
	{"ReserveSMS/a send stays in the window for 60 to 61 minutes, counted by the minute", func(t *testing.T, s storage.Store) {
		wantReserve(t, s, at(0), 2, 1, true)
		wantReserve(t, s, at(30*time.Minute), 2, 2, true)
		// t0 is 09:30:00.12: its minute still counts at 10:30:59.
		end := t0.Truncate(time.Minute).Add(time.Hour + time.Minute)
		wantReserve(t, s, end.Add(-time.Nanosecond), 2, 2, false)
		wantReserve(t, s, end, 2, 2, true) // the 09:30 send left, this one took its place
		equal(t, must(s.SMSCount(t.Context(), end.Add(30*time.Minute)))(t), 1)
		equal(t, must(s.SMSCount(t.Context(), end.Add(2*time.Hour)))(t), 0)
	}},
	{"ReserveSMS/a limit raised later lets more through, a lower one refuses at once", func(t *testing.T, s storage.Store) {
		wantReserve(t, s, at(0), 1, 1, true)
		wantReserve(t, s, at(time.Second), 1, 1, false)
		wantReserve(t, s, at(2*time.Second), 5, 2, true)
		wantReserve(t, s, at(3*time.Second), 2, 2, false)
	}},
	{"ReserveSMS/a limit of zero or less counts nothing", func(t *testing.T, s storage.Store) {
		wantReserve(t, s, at(0), 0, 0, false)
		wantReserve(t, s, at(0), -1, 0, false)
		equal(t, must(s.SMSCount(t.Context(), at(0)))(t), 0)
	}},
	{"ReserveSMS/times in any zone count in the same minutes", func(t *testing.T, s storage.Store) {
		wantReserve(t, s, at(0).In(tokyo()), 2, 1, true)
		wantReserve(t, s, at(time.Second), 2, 2, true)
		equal(t, must(s.SMSCount(t.Context(), at(2*time.Second).In(tokyo())))(t), 2)
	}},
	{"ReserveSMS/100 concurrent reservations against a limit of 30: exactly 30 counted", func(t *testing.T, s storage.Store) {
		const n, limit = 100, 30
		won := make([]bool, n)
		errs := race(n, func(i int) error {
			_, reserved, err := s.ReserveSMS(t.Context(), at(time.Duration(i)*time.Millisecond), limit)
			won[i] = reserved
			return err
		})
		count := 0
		for i, err := range errs {
			ok(t, err)
			if won[i] {
				count++
			}
		}
		if count != limit {
			t.Fatalf("%d reservations counted, want %d", count, limit)
		}
		equal(t, must(s.SMSCount(t.Context(), at(time.Second)))(t), limit)
	}},
	{"SMSCount/an empty store counts zero", func(t *testing.T, s storage.Store) {
		equal(t, must(s.SMSCount(t.Context(), at(0)))(t), 0)
	}},
}
