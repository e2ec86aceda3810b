package loadtest

import (
	"context"
	"sync/atomic"
	"time"
)

// An open-loop run (Options.Rate) offers iterations on a schedule: the
// i-th is due at start + i/rate, whoever takes it, whether or not the
// server has answered the ones before. A closed loop (each worker
// starting its next iteration when its last ends) measures the most the
// server does, but slows its offer down as the server slows, so a slow
// moment shows as fewer iterations rather than as latency; on a shared
// machine its maxima move by a quarter between runs. At a fixed offered
// rate the server's answer is its latency at that load: an iteration's
// latency counts from when it was due, so time waiting for a free worker
// (all of them busy with slower answers) counts as the server's
// (coordinated omission otherwise hides it). Give the run workers enough
// for the offered rate at the latency expected; the report says how many
// iterations started late (a free worker took them more than lateAfter
// after they were due) and how much.

// lateAfter is how long after it is due an iteration counts as started
// late: the offer then was the workers', not the rate's.
const lateAfter = 10 * time.Millisecond

// schedule hands out the due times of an open-loop run; nil, or a rate
// of 0, is a closed loop: each iteration is due when a worker asks.
type schedule struct {
	start    time.Time
	deadline time.Time
	interval time.Duration
	taken    atomic.Int64
	late     atomic.Int64
	maxLagUS atomic.Int64
}

func newSchedule(start, deadline time.Time, rate float64) *schedule {
	if rate <= 0 {
		return nil
	}
	return &schedule{start: start, deadline: deadline, interval: time.Duration(float64(time.Second) / rate)}
}

// next waits for the next due iteration and returns when it was due; ok
// is false once the run is over (the next is due at or after the
// deadline, or ctx ends).
func (s *schedule) next(ctx context.Context) (due time.Time, ok bool) {
	if s == nil {
		return time.Now(), true
	}
	i := s.taken.Add(1) - 1
	due = s.start.Add(time.Duration(i) * s.interval)
	if !due.Before(s.deadline) {
		return due, false
	}
	if wait := time.Until(due); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return due, false
		case <-t.C:
		}
		return due, true
	}
	lag := time.Since(due)
	if lag > lateAfter {
		s.late.Add(1)
	}
	for {
		m := s.maxLagUS.Load()
		if lag.Microseconds() <= m || s.maxLagUS.CompareAndSwap(m, lag.Microseconds()) {
			break
		}
	}
	return due, true
}

// report puts the schedule's figures in rep.
func (s *schedule) report(rep *loadReport) {
	if s == nil {
		return
	}
	rep.OfferedRate = round1(float64(time.Second) / float64(s.interval))
	rep.LateStarts = s.late.Load()
	rep.MaxStartLagMS = round2(float64(s.maxLagUS.Load()) / 1000)
}
