package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

func openCommitter(t *testing.T) *committer {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return &committer{db: db}
}

func put(k string) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(k), []byte("v")) }
}

// TestGroupCommit: concurrent writes share commits, each sees its own
// outcome, and one failing or panicking write costs the others nothing.
func TestGroupCommit(t *testing.T) {
	c := openCommitter(t)
	const n = 2*maxBatch + 300 // more than one batch can hold
	errBad := errors.New("bad write")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			fn := put(fmt.Sprintf("k%05d", i))
			switch i % 97 {
			case 13:
				fn = func(tx *bbolt.Tx) error {
					_ = put(fmt.Sprintf("x%05d", i))(tx) // written, then failed: must roll back
					return errBad
				}
			case 29:
				fn = func(*bbolt.Tx) error { panic("boom") }
			}
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panicked: %v", p)
				}
			}()
			errs[i] = c.do(fn)
		})
	}
	wg.Wait()

	want := 0
	for i, err := range errs {
		switch i % 97 {
		case 13:
			if !errors.Is(err, errBad) {
				t.Errorf("write %d: %v, want its own error", i, err)
			}
		case 29:
			if err == nil || !strings.Contains(err.Error(), "boom") {
				t.Errorf("write %d: %v, want its panic", i, err)
			}
		default:
			want++
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	err := c.db.View(func(tx *bbolt.Tx) error {
		got, stray := 0, 0
		_ = tx.Bucket([]byte("b")).ForEach(func(k, _ []byte) error {
			if k[0] == 'x' {
				stray++
			} else {
				got++
			}
			return nil
		})
		if got != want || stray != 0 {
			t.Errorf("stored %d writes and %d of failed ones, want %d and 0", got, stray, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running || len(c.queue) != 0 {
		t.Errorf("committer still busy after every write returned: running=%v queued=%d", c.running, len(c.queue))
	}
}

// TestGroupCommitShares: writes that arrive while a commit runs share the
// next transaction.
func TestGroupCommitShares(t *testing.T) {
	c := openCommitter(t)
	release, started := make(chan struct{}), make(chan struct{})
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		txs = map[*bbolt.Tx]int{}
	)
	wg.Go(func() {
		err := c.do(func(tx *bbolt.Tx) error {
			close(started)
			<-release // hold this commit open while the others queue
			return put("first")(tx)
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-started
	for i := range 50 {
		wg.Go(func() {
			err := c.do(func(tx *bbolt.Tx) error {
				mu.Lock()
				txs[tx]++
				mu.Unlock()
				return put(fmt.Sprintf("k%02d", i))(tx)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	for queued := 0; queued < 50; {
		runtime.Gosched()
		c.mu.Lock()
		queued = len(c.queue)
		c.mu.Unlock()
	}
	close(release)
	wg.Wait()
	if len(txs) != 1 {
		t.Errorf("50 queued writes ran in %d transactions, want 1: %v", len(txs), txs)
	}
}
