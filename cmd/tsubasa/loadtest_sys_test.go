package main

import (
	"slices"
	"testing"
	"time"

	"tsubasa/config"
)

// The ceiling takes the median of the hashes timed before and after the
// run, and the concurrent time is the mean of both sides.
func TestHashCeilingUsesBothSidesOfTheRun(t *testing.T) {
	var cfg config.Config
	cfg.Password.Argon2.MemoryKiB, cfg.Password.Argon2.Iterations, cfg.Password.Argon2.Parallelism = 64, 1, 1
	cfg.Password.MaxConcurrentHashes = 1
	h := measureHash(cfg)
	if len(h.solo) != 5 || len(h.concurrent) != 1 || h.ConcurrentHashes != 1 {
		t.Fatalf("before the run: %d solo, %d concurrent samples, %d at once", len(h.solo), len(h.concurrent), h.ConcurrentHashes)
	}
	h.measure()
	if len(h.solo) != 10 || len(h.concurrent) != 2 {
		t.Fatalf("after the run: %d solo, %d concurrent samples", len(h.solo), len(h.concurrent))
	}
	// Make the sides differ, as a drifting machine does, and recompute.
	for i := range h.solo {
		h.solo[i] = time.Duration(i+1) * time.Millisecond
	}
	h.solo = h.solo[:9]
	h.concurrent = []time.Duration{2 * time.Millisecond, 4 * time.Millisecond}
	h.solo = append(h.solo, 10*time.Millisecond)
	before := slices.Clone(h.solo)
	h.measure() // adds five real (sub-millisecond) samples: 15 in all
	if len(h.solo) != 15 {
		t.Fatalf("%d samples", len(h.solo))
	}
	sorted := slices.Clone(h.solo)
	slices.Sort(sorted)
	if want := ms(sorted[7]); h.HashMS != want {
		t.Errorf("HashMS %v, want the median %v of %v", h.HashMS, want, before)
	}
	if h.PerSecond != 1/sorted[7].Seconds() {
		t.Errorf("ceiling %v for a median of %v", h.PerSecond, sorted[7])
	}
}
