package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// maxCheckErrors bounds the problems Verify reports from one file.
const maxCheckErrors = 10

// Verify checks that the file at path is a complete, consistent Tsubasa
// database without changing it: a bbolt file whose size covers every page
// its meta page claims (a truncated copy would fault when such a page is
// read, so this is checked before any other page is touched), whose pages
// pass bbolt's consistency check (each page reachable once, keys in
// order; a stored free list consistent with them, though Open stores none:
// see "Free list" in the package documentation) and which holds every
// bucket of this schema version. It takes a shared lock, so it fails with
// ErrLocked while a server holds the file. Use it on a backup before
// restoring it.
func Verify(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("bolt: verify: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("bolt: verify %s: not a regular file", path)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("%w: %s is in use by another process", ErrLocked, path)
	}
	if err != nil {
		return fmt.Errorf("bolt: %s is not a database file: %w", path, err)
	}
	defer db.Close()
	var need int64
	_ = db.View(func(tx *bbolt.Tx) error { need = tx.Size(); return nil }) // meta only
	if fi.Size() < need {
		return fmt.Errorf("bolt: %s is truncated: %d bytes, its pages need %d", path, fi.Size(), need)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		if err := readEveryPage(tx); err != nil {
			return err
		}
		var errs []error
		for err := range tx.Check() { // drain: Check stops only when done
			if len(errs) < maxCheckErrors {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("inconsistent pages: %w", errors.Join(errs...))
		}
		return checkSchema(tx)
	})
	if err != nil {
		return fmt.Errorf("bolt: %s: %w", path, err)
	}
	return nil
}

// readEveryPage reads every branch and leaf page of every bucket, turning
// a panic on a damaged page into an error. It runs before tx.Check: a file
// without a stored free list (Open stores none) has Check rebuild the list
// by walking the pages on a goroutine of bbolt's own, where such a panic
// would end the process instead of reaching Check's recover.
func readEveryPage(tx *bbolt.Tx) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true)) // a page past the mapping panics too
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("damaged page: %v", r)
		}
	}()
	var walk func(b *bbolt.Bucket) error
	walk = func(b *bbolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				if child := b.Bucket(k); child != nil {
					if err := walk(child); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error { return walk(b) })
}

// Hold takes the shared lock of the database file at path, reading nothing
// but its meta pages (so a damaged file is safe to hold), and keeps it
// until release is called: while held, no process can open the file
// read-write. It fails with an error wrapping ErrLocked when a writer holds
// the file now. The restore command holds the file it replaces.
func Hold(path string, timeout time.Duration) (release func() error, err error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: another Tsubasa process holds %s (waited %s); stop it first", ErrLocked, path, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return db.Close, nil
}
