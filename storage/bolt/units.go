package bolt

import (
	"context"
	"sync"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// unit is a request's open unit of held writes (see storage.Units).
type unit struct {
	s      *Store
	mu     sync.Mutex
	held   []func(*bbolt.Tx) error
	after  []func()
	closed bool
	err    error // the first failure of a commit that carried held writes
}

// Begin opens a unit; see storage.Units.
func (s *Store) Begin(ctx context.Context) (context.Context, func() error) {
	u := &unit{s: s}
	return storage.WithUnit(ctx, u), u.commit
}

// After implements storage.Unit.
func (u *unit) After(fn func()) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || len(u.held) == 0 {
		return false
	}
	u.after = append(u.after, fn)
	return true
}

// unitOf returns the open unit of this store that ctx carries, or nil.
func (s *Store) unitOf(ctx context.Context) *unit {
	u, _ := storage.UnitOf(ctx).(*unit)
	if u == nil || u.s != s {
		return nil
	}
	return u
}

// hold holds fn in ctx's unit, or writes it at once when there is none.
// fn must check before it writes (abort leaves nothing behind).
func (s *Store) hold(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u := s.unitOf(ctx); u != nil {
		u.mu.Lock()
		if !u.closed {
			u.held = append(u.held, fn)
			u.mu.Unlock()
			return nil
		}
		u.mu.Unlock()
	}
	return s.write(ctx, fn)
}

// take removes what the unit holds, for a commit to carry.
func (u *unit) take() ([]func(*bbolt.Tx) error, []func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	held, after := u.held, u.after
	u.held, u.after = nil, nil
	return held, after
}

// settled records the outcome of a commit that carried held writes.
func (u *unit) settled(err error, after []func()) {
	if err != nil {
		u.mu.Lock()
		if u.err == nil {
			u.err = err
		}
		u.mu.Unlock()
		return
	}
	for _, fn := range after {
		fn()
	}
}

// commit writes what is held, closes the unit and returns the first
// failure of its held writes.
func (u *unit) commit() error {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	held, after := u.take()
	if len(held) > 0 {
		u.settled(u.s.commits.do(runHeld(held)), after)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// runHeld runs held writes in a transaction. A held write that aborts
// fails the transaction: it was answered as done, so nothing held with it
// may be committed without it.
func runHeld(held []func(*bbolt.Tx) error) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		for _, fn := range held {
			if err := fn(tx); err != nil {
				return noAbort(err)
			}
		}
		return nil
	}
}
