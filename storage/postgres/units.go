package postgres

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// unit is a request's open unit of held writes (see storage.Units). The
// held writes are functions that run, first, in the transaction of the
// request's next write that cannot be held, or in one of their own when
// the request calls the unit's commit function: one transaction per unit,
// never a connection held open while the request works.
type unit struct {
	s      *Store
	ctx    context.Context // Begin's, without its cancellation: held writes commit even if the request is gone
	mu     sync.Mutex
	held   []txFunc
	after  []func()
	closed bool
	err    error // the first failure of a commit that carried held writes
}

// Begin opens a unit; see storage.Units.
func (s *Store) Begin(ctx context.Context) (context.Context, func() error) {
	u := &unit{s: s, ctx: context.WithoutCancel(ctx)}
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
func (s *Store) hold(ctx context.Context, fn txFunc) error {
	if err := s.live(ctx); err != nil {
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

// take removes what the unit holds, for a transaction to carry.
func (u *unit) take() ([]txFunc, []func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	held, after := u.held, u.after
	u.held, u.after = nil, nil
	return held, after
}

// settled records the outcome of a transaction that carried held writes.
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
		err := u.s.live(u.ctx)
		if err == nil {
			err = u.s.tx(u.ctx, func(ctx context.Context, tx pgx.Tx) error {
				return runHeld(ctx, tx, held)
			})
		}
		u.settled(err, after)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// runHeld runs held writes in tx. One that fails fails the transaction:
// it was answered as done, so nothing held with it may be committed
// without it.
func runHeld(ctx context.Context, tx pgx.Tx, held []txFunc) error {
	for _, fn := range held {
		if err := fn(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}
