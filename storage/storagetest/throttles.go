package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// addOne is an UpdateThrottles function that counts one event per key,
// kept for an hour.
func addOne(now time.Time) func([]storage.Throttle) ([]storage.Throttle, error) {
	return func(ts []storage.Throttle) ([]storage.Throttle, error) {
		for i := range ts {
			ts[i].Count++
			ts[i].Last = now
			ts[i].ExpiresAt = now.Add(time.Hour)
		}
		return ts, nil
	}
}

func countOf(t *testing.T, s storage.Store, key string, now time.Time) int {
	t.Helper()
	return must(s.Throttle(t.Context(), key, now))(t).Count
}

var throttleTests = []test{
	{"Throttle/a key never written reads as the zero record", func(t *testing.T, s storage.Store) {
		equal(t, must(s.Throttle(t.Context(), "login/ip/192.0.2.1", at(0)))(t), storage.Throttle{})
	}},
	{"UpdateThrottles/stores what fn returns: it reads back equal, times in UTC", func(t *testing.T, s storage.Store) {
		want := storage.Throttle{Count: 3, Last: at(time.Second), Until: at(time.Minute),
			Times: []time.Time{at(0), at(time.Second)}, ExpiresAt: at(time.Hour)}
		ok(t, s.UpdateThrottles(t.Context(), at(0), []string{"k"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			equal(t, ts, []storage.Throttle{{}})
			in := inZone(want, tokyo())
			in.Times = []time.Time{at(0).In(tokyo()), at(time.Second).In(tokyo())}
			return []storage.Throttle{in}, nil
		}))
		got := must(s.Throttle(t.Context(), "k", at(time.Second)))(t)
		utcOnly(t, got)
		for _, tm := range got.Times {
			if tm.Location() != time.UTC {
				t.Fatalf("Times in %v, want UTC", tm.Location())
			}
		}
		equal(t, got, want)
		// nil Times stay nil.
		ok(t, s.UpdateThrottles(t.Context(), at(0), []string{"n"}, addOne(at(0))))
		equal(t, must(s.Throttle(t.Context(), "n", at(0)))(t).Times, []time.Time(nil))
	}},
	{"UpdateThrottles/fn gets the records in the order of the keys", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for i, k := range []string{"b", "a", "c"} {
			ok(t, s.UpdateThrottles(ctx, at(0), []string{k}, func([]storage.Throttle) ([]storage.Throttle, error) {
				return []storage.Throttle{{Count: i + 1, ExpiresAt: at(time.Hour)}}, nil
			}))
		}
		ok(t, s.UpdateThrottles(ctx, at(0), []string{"c", "missing", "b", "a"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			got := []int{ts[0].Count, ts[1].Count, ts[2].Count, ts[3].Count}
			if fmt.Sprint(got) != "[3 0 1 2]" {
				return nil, fmt.Errorf("records in the order %v, want [3 0 1 2]", got)
			}
			return ts, nil
		}))
	}},
	{"UpdateThrottles/an expired record reads as zero, and fn gets zero for it", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UpdateThrottles(ctx, at(0), []string{"k"}, addOne(at(0))))
		end := at(time.Hour)
		equal(t, countOf(t, s, "k", end.Add(-time.Nanosecond)), 1)
		equal(t, must(s.Throttle(ctx, "k", end))(t), storage.Throttle{})
		ok(t, s.UpdateThrottles(ctx, end, []string{"k"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			if ts[0].Count != 0 {
				return nil, fmt.Errorf("fn got %+v for an expired record", ts[0])
			}
			return addOne(end)(ts)
		}))
		equal(t, countOf(t, s, "k", end), 1)
	}},
	{"UpdateThrottles/a record returned expired is deleted", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UpdateThrottles(ctx, at(0), []string{"k"}, addOne(at(0))))
		ok(t, s.UpdateThrottles(ctx, at(time.Second), []string{"k"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			ts[0].ExpiresAt = at(time.Second) // not after now
			return ts, nil
		}))
		equal(t, must(s.Throttle(ctx, "k", at(0)))(t), storage.Throttle{})
	}},
	{"UpdateThrottles/an error from fn aborts the update of every key", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UpdateThrottles(ctx, at(0), []string{"a"}, addOne(at(0))))
		err := s.UpdateThrottles(ctx, at(0), []string{"a", "b"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			_, _ = addOne(at(0))(ts)
			return ts, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, countOf(t, s, "a", at(0)), 1)
		equal(t, countOf(t, s, "b", at(0)), 0)
	}},
	{"UpdateThrottles/fn returning another number of records than keys fails and stores nothing", func(t *testing.T, s storage.Store) {
		err := s.UpdateThrottles(t.Context(), at(0), []string{"a", "b"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			return addOne(at(0))(ts[:1])
		})
		notNil(t, err, "one record for two keys")
		equal(t, countOf(t, s, "a", at(0)), 0)
	}},
	{"UpdateThrottles/no key, an empty key, a key given twice or holding NUL are refused", func(t *testing.T, s storage.Store) {
		for _, keys := range [][]string{nil, {""}, {"a", "a"}, {"a\x00b"}, {"\xff"}} {
			err := s.UpdateThrottles(t.Context(), at(0), keys, addOne(at(0)))
			notNil(t, err, fmt.Sprintf("keys %q", keys))
		}
		_, err := s.Throttle(t.Context(), "a\x00b", at(0))
		notNil(t, err, "reading a key with NUL")
	}},
	{"UpdateThrottles/changing what Throttle returned does not reach the store", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UpdateThrottles(ctx, at(0), []string{"k"}, func([]storage.Throttle) ([]storage.Throttle, error) {
			return []storage.Throttle{{Times: []time.Time{at(0)}, ExpiresAt: at(time.Hour)}}, nil
		}))
		got := must(s.Throttle(ctx, "k", at(0)))(t)
		got.Times[0] = at(time.Minute)
		equal(t, must(s.Throttle(ctx, "k", at(0)))(t).Times, []time.Time{at(0)})
	}},
	{"UpdateThrottles/100 concurrent updates of one key count 100", func(t *testing.T, s storage.Store) {
		errs := race(100, func(int) error { return s.UpdateThrottles(t.Context(), at(0), []string{"k"}, addOne(at(0))) })
		for _, err := range errs {
			ok(t, err)
		}
		equal(t, countOf(t, s, "k", at(0)), 100)
	}},
	{"UpdateThrottles/concurrent updates of two keys in opposite orders all count, without deadlock", func(t *testing.T, s storage.Store) {
		errs := race(60, func(i int) error {
			keys := []string{"a", "b"}
			if i%2 == 1 {
				keys = []string{"b", "a"}
			}
			return s.UpdateThrottles(t.Context(), at(0), keys, addOne(at(0)))
		})
		for _, err := range errs {
			ok(t, err)
		}
		equal(t, countOf(t, s, "a", at(0)), 60)
		equal(t, countOf(t, s, "b", at(0)), 60)
	}},
	{"UpdateThrottles/a limit checked in fn holds: 100 concurrent callers against 30 count 30", func(t *testing.T, s storage.Store) {
		errFull := errors.New("full")
		errs := race(100, func(int) error {
			return s.UpdateThrottles(t.Context(), at(0), []string{"k"}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
				if ts[0].Count >= 30 {
					return nil, errFull
				}
				return addOne(at(0))(ts)
			})
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, errFull):
				t.Fatal(err)
			}
		}
		equal(t, won, 30)
		equal(t, countOf(t, s, "k", at(0)), 30)
	}},
}
