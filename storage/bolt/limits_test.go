package bolt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// The throttles kept in memory are bounded: a flood of distinct keys
// (addresses, numbers) does not grow them past max, and when full, what
// has expired goes first, before any live record.
func TestThrottlesBounded(t *testing.T) {
	s := openInternal(t)
	s.limits.max = 100
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keep := func(ts []storage.Throttle) ([]storage.Throttle, error) {
		return []storage.Throttle{{Count: 1, ExpiresAt: now.Add(time.Hour)}}, nil
	}
	for i := range 1000 {
		if err := s.UpdateThrottles(t.Context(), now, []string{fmt.Sprint("old/", i)}, keep); err != nil {
			t.Fatal(err)
		}
		if n := len(s.limits.throttles); n > 100 {
			t.Fatalf("%d throttles kept, max 100", n)
		}
	}
	later := now.Add(2 * time.Hour) // every old record has expired
	lateKeep := func(ts []storage.Throttle) ([]storage.Throttle, error) {
		return []storage.Throttle{{Count: 1, ExpiresAt: later.Add(time.Hour)}}, nil
	}
	for i := range 30 {
		if err := s.UpdateThrottles(t.Context(), later, []string{fmt.Sprint("late/", i)}, lateKeep); err != nil {
			t.Fatal(err)
		}
	}
	late := 0
	for k := range s.limits.throttles {
		if strings.HasPrefix(k, "late/") {
			late++
		}
	}
	if late != 30 {
		t.Errorf("%d of 30 live records kept after sweeps, want all", late)
	}
}
