package loadtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// run prepares the workers, runs them for the duration and merges what
// they saw.
func (l *loader) run(ctx context.Context, sc scenario) (*loadReport, error) {
	if sc.setup != nil {
		if err := sc.setup(ctx, l); err != nil {
			return nil, fmt.Errorf("loadtest: preparing %s: %w", l.o.Scenario, err)
		}
	}
	workers := make([]*worker, l.o.Concurrency)
	for i := range workers {
		workers[i] = newWorker(l, i)
	}
	if sc.prepare != nil {
		if err := prepareAll(ctx, workers, sc); err != nil {
			return nil, fmt.Errorf("loadtest: preparing %s: %w", l.o.Scenario, err)
		}
	}
	var server *procSampler
	if l.o.PID > 0 {
		var err error
		if server, err = startProc(l.o.PID); err != nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
	}
	inline := l.signedInline(workers) // those of the preparation do not count
	if err := l.clock("start"); err != nil {
		return nil, err
	}
	cpu, machine := selfCPU(), machineCPU()
	// In-flight iterations finish after the deadline (a request cut short
	// is not the server's error), within one request timeout.
	start := time.Now()
	deadline := start.Add(l.o.Duration)
	runCtx, cancel := context.WithDeadline(ctx, deadline.Add(l.o.Timeout))
	defer cancel()
	sched := newSchedule(start, deadline, l.o.Rate)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(runCtx, sc, deadline, sched) })
	}
	wg.Wait()
	if err := l.clock("stop"); err != nil {
		return nil, err
	}
	rep := newReport(l, workers, time.Since(start))
	sched.report(rep)
	if l.imp != nil {
		rep.Import = l.imp.finish(time.Since(start))
	}
	rep.SignedInline = l.signedInline(workers) - inline
	rep.LoadCPUSeconds = seconds(selfCPU() - cpu)
	others := machineCPU() - machine
	if server != nil {
		r := server.finish(rep.Iterations)
		rep.Server = &r
		others -= time.Duration(r.CPUSeconds * float64(time.Second))
	}
	if machine > 0 {
		rep.OtherCPUSeconds = max(round2(seconds(others)-rep.LoadCPUSeconds), 0)
	}
	return rep, nil
}

// clock appends mark to Options.ClockFile, if set.
func (l *loader) clock(mark string) error {
	if l.o.ClockFile == "" {
		return nil
	}
	f, err := os.OpenFile(l.o.ClockFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("loadtest: --clock-file: %w", err)
	}
	_, err = f.WriteString(mark + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("loadtest: --clock-file: %w", err)
	}
	return nil
}

// prepareAll prepares the workers, a few at a time.
func prepareAll(ctx context.Context, workers []*worker, sc scenario) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	slots := make(chan struct{}, max(sc.prepareSlots, 1))
	var wg sync.WaitGroup
	for _, w := range workers {
		slots <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := sc.prepare(ctx, w); err != nil {
				cancel(fmt.Errorf("worker %d (member %s): %w", w.id, w.number, err))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	for _, w := range workers {
		w.resetStats()
	}
	return nil
}

func (w *worker) resetStats() {
	w.iter, w.req = latencyHist{}, latencyHist{}
	w.iters, w.requests = 0, 0
	clear(w.errs)
	clear(w.samples)
}

// loop runs iterations until the deadline. Latency is recorded for
// successful iterations; failures are counted by their key.
func (w *worker) loop(ctx context.Context, sc scenario, deadline time.Time, sched *schedule) {
	defer w.closeLean()
	for ctx.Err() == nil {
		start, ok := sched.next(ctx)
		if !ok || !start.Before(deadline) {
			return
		}
		w.retryAfter = 0
		err := sc.run(ctx, w)
		if errors.Is(err, errScenarioDone) {
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return // interrupted: not the server's error
			}
			w.fail(err)
			if w.retryAfter > 0 && w.l.o.HonorRetryAfter {
				sleepCtx(ctx, min(w.retryAfter, time.Until(deadline)))
			}
			continue
		}
		w.iter.record(time.Since(start))
		w.iters++
	}
}
