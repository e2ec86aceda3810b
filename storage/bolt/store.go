package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"tsubasa/storage"
)

// ErrLocked is returned by Open when another process holds the database
// file. bbolt takes an flock on the file, so only one process can use it.
var ErrLocked = errors.New("bolt: database file is locked")

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Timeout is how long Open waits for the file lock; default 1s.
	Timeout time.Duration
	// ReadOnly opens the file with a shared lock; writes fail. The file must
	// already have been initialised by a read-write open.
	ReadOnly bool
	// Logger receives start-up and janitor messages; default: discard.
	Logger *slog.Logger
	// RevokeFor is how long DeleteTokens remembers what it revoked for
	// tokens that are not stored (see Store.TokenRevoked): at least the
	// longest access-token lifetime; default 24h.
	RevokeFor time.Duration
	// Now is the clock DeleteTokens stamps revocations with, to compare
	// with the CreatedAt the provider gives tokens; default time.Now.
	Now func() time.Time
}

// Store is the bbolt backend. It implements storage.Store and is safe for
// concurrent use.
type Store struct {
	db      *bbolt.DB
	commits *committer // every write goes through it (commit.go)
	path    string
	log     *slog.Logger

	// secretMu serialises the slow path of Secret so that create runs once
	// per process even when many callers miss at the same time.
	secretMu sync.Mutex

	// pending holds authorization requests until their code is saved.
	pending *pendingRequests
	// members caches decoded member records for MemberByID.
	members *memberCache
	// revoked mirrors the token_revocations bucket.
	revoked *revocations
	// limits are the throttles, attempts in flight and single-use claims,
	// in memory (limits.go); changes tells this process's caches about
	// client and key changes (changes.go).
	limits  *limits
	changes *changes
	now     func() time.Time
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. The parent
// directory is created with mode 0700 and the file with 0600.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("bolt: create directory of %s: %w", path, err)
		}
	}
	db, err := openBolt(path, &bbolt.Options{
		Timeout:      opts.Timeout,
		ReadOnly:     opts.ReadOnly,
		FreelistType: bbolt.FreelistMapType,
		// The free list is not written at each commit (see "Free list"
		// in the package documentation): one page allocation, pwrite and
		// a sort of every free page id fewer per commit. Durability is
		// unchanged: the data pages and then the meta page are still
		// fdatasynced at every commit (bbolt tx.go, (*Tx).write and
		// (*Tx).writeMeta), and the meta page records "no free list", so
		// an open rebuilds it by walking the tree of the newest valid
		// meta page (db.go, loadFreelist and freepages).
		NoFreelistSync: true,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: another Tsubasa process holds %s (waited %s); stop it or use another file",
			ErrLocked, path, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{db: db, commits: &committer{db: db}, path: path, log: log, pending: newPendingRequests(), members: newMemberCache(),
		revoked: newRevocations(opts.RevokeFor), limits: newLimits(), changes: newChanges(), now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.ReadOnly {
		err = db.View(checkSchema)
	} else {
		err = db.Update(initSchema)
	}
	if err == nil {
		err = db.View(s.revoked.load)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: %s: %w", path, err)
	}
	log.Debug("storage opened", "path", path, "read_only", opts.ReadOnly)
	return s, nil
}

// openBolt is bbolt.Open, with a panic turned into an error. Without a
// stored free list, a read-write open walks every page to rebuild it, and
// bbolt panics there ("freepages: failed to get all reachable pages") when
// the tree is damaged. The half-opened file stays locked until the process
// exits.
func openBolt(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("the file is damaged (verify it, restore a backup): %v", r)
		}
	}()
	return bbolt.Open(path, 0o600, o)
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// Close closes the database. Calls after Close fail; a second Close is a
// no-op.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.path, err)
	}
	return nil
}

// Backup writes a consistent copy of the database to w while the store
// stays in use (a read transaction sees one snapshot), and returns the
// number of bytes written. The copy is itself a database file.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("bolt: backup %s: %w", s.path, err)
	}
	return n, nil
}

// abortError marks an error found before a write function changed
// anything: the function's (empty) part of the batch may commit with the
// rest, and the error goes to the caller. Any other error rolls the whole
// batch back, and bbolt re-runs the failing function on its own.
type abortError struct{ err error }

func (a abortError) Error() string { return a.err.Error() }

func abort(err error) error { return abortError{err} }

// noAbort turns an abort into a plain error (which rolls back), for a
// function that has already written.
func noAbort(err error) error {
	if a, ok := err.(abortError); ok {
		return a.err
	}
	return err
}

// write runs fn in a read-write transaction shared with other concurrent
// writers (a group commit, commit.go), so they share one commit and fsync. fn may run more
// than once and must reset whatever results it captures. It returns
// abort(err) for expected failures decided before its first write.
func (s *Store) write(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// A write under a unit carries what the unit holds, ahead of it.
	var held []func(*bbolt.Tx) error
	var after []func()
	u := s.unitOf(ctx)
	if u != nil {
		held, after = u.take()
	}
	var aborted error
	err := s.commits.do(func(tx *bbolt.Tx) error {
		aborted = nil
		if len(held) > 0 {
			if err := runHeld(held)(tx); err != nil {
				return err
			}
		}
		err := fn(tx)
		if a, ok := err.(abortError); ok {
			aborted = a.err
			return nil
		}
		return err
	})
	if len(held) > 0 {
		u.settled(err, after)
	}
	if err != nil {
		return err
	}
	return aborted
}

// read runs fn in a read-only transaction. Whatever fn keeps must be copied
// out: bytes from the transaction are only valid inside it.
func (s *Store) read(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}
