package bolt

import (
	"errors"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// committer is a group commit: every write of the store goes through it.
//
// bbolt's db.Batch gathers writes for a fixed delay, then waits for the
// writer with the batch closed. Under load, commits ran back to back with
// only one delay's worth of writes each, and a lone write always waited
// the delay. Here a write that finds no commit running starts one at once,
// and every write that arrives while a commit runs joins the next: batches
// grow with the load, and no write waits for a timer.
type committer struct {
	db *bbolt.DB

	mu      sync.Mutex
	queue   []writeCall
	running bool // a loop goroutine is committing
}

type writeCall struct {
	fn  func(*bbolt.Tx) error
	err chan error
}

// maxBatch bounds one transaction: it holds every page its writes dirtied
// until the commit.
const maxBatch = 1000

// errTrySolo tells a write that failed in a batch (which was rolled back
// and committed without it) to run alone, for its own error.
var errTrySolo = errors.New("bolt: write failed in a batch; run it alone")

// do runs fn in a read-write transaction shared with the writes around it,
// and returns once that transaction has committed (and fsynced) or failed.
// fn may run more than once.
func (c *committer) do(fn func(*bbolt.Tx) error) error {
	call := writeCall{fn: fn, err: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, call)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	err := <-call.err
	if err == errTrySolo {
		err = c.db.Update(fn)
	}
	return err
}

// loop commits what is queued, batch after batch, until the queue is empty.
func (c *committer) loop() {
	for {
		c.mu.Lock()
		batch := c.queue
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		if len(batch) > maxBatch {
			batch = batch[:maxBatch:maxBatch]
			c.queue = c.queue[maxBatch:]
		} else {
			c.queue = nil
		}
		c.mu.Unlock()
		c.commit(batch)
	}
}

// commit runs the batch in one transaction. A function that fails rolls
// the transaction back; the rest go again without it, and it runs alone.
func (c *committer) commit(batch []writeCall) {
	calls := batch
	for len(calls) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for i := range calls {
				if err := safely(calls[i].fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].err <- errTrySolo
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		for i := range calls {
			calls[i].err <- err
		}
		return
	}
}

// safely runs fn, turning a panic into an error (the solo run panics for
// real, in the caller's goroutine).
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bolt: write panicked: %v", p)
		}
	}()
	return fn(tx)
}
