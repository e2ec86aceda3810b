package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"tsubasa/storage"
)

// Kept lists the event types that no retention deletes: the erasure
// tombstone is the proof that a member was erased (an operator reads it
// by the erased id, provider/admin), holds no personal data, and is one
// event per erased member, so keeping it costs next to nothing.
func Kept() []string { return []string{EventMemberErased} }

// retentionChunk is how many events one commit deletes: small enough that
// no commit holds the writer (bbolt) or many row locks (PostgreSQL) for
// long.
const retentionChunk = 1000

// maxChunksPerRun bounds one run: the first run after a retention is set
// on a log kept forever meets a backlog, which the runs then drain a
// million events at a time (far more than a minute's events at peak, two
// per login at 5,000 logins a second is 600,000) instead of one run
// holding the store for hours.
const maxChunksPerRun = 1000

// Retention deletes the events older than a retention.
type Retention struct {
	store  storage.EventRetention
	keep   time.Duration
	log    *slog.Logger
	now    func() time.Time
	chunk  int
	chunks int
}

// NewRetention returns a Retention that deletes events older than keep
// from store, but for the Kept types. keep 0 deletes nothing: Prune and
// Run return at once. now is the clock (nil: time.Now).
func NewRetention(store storage.EventRetention, keep time.Duration, log *slog.Logger, now func() time.Time) *Retention {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Retention{store: store, keep: keep, log: log, now: now, chunk: retentionChunk, chunks: maxChunksPerRun}
}

// Prune deletes the events past the retention, a chunk per commit, at
// most a run's bound of chunks, and returns how many it deleted. Several
// processes may prune one store at once: the backends share the work.
func (r *Retention) Prune(ctx context.Context) (int, error) {
	if r.keep <= 0 {
		return 0, nil
	}
	cutoff, kept := r.now().Add(-r.keep), Kept()
	total := 0
	for range r.chunks {
		n, err := r.store.DeleteEventsBefore(ctx, cutoff, kept, r.chunk)
		total += n
		if err != nil {
			return total, fmt.Errorf("audit: retention: %w", err)
		}
		if n < r.chunk {
			break
		}
	}
	return total, nil
}

// Run prunes every interval until ctx ends.
func (r *Retention) Run(ctx context.Context, every time.Duration) {
	if r.keep <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := r.Prune(ctx)
			if err != nil && ctx.Err() == nil {
				r.log.ErrorContext(ctx, "audit retention failed", "err", err, "deleted", n)
			} else if n > 0 {
				r.log.InfoContext(ctx, "audit events past retention deleted", "count", n, "retention", r.keep.String())
			}
		}
	}
}
