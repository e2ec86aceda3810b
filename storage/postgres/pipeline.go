package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Fewer round trips for the writes of one record. pgx's transactions send
// BEGIN and COMMIT each as a round trip of its own, so a write of one
// statement took three and an update (read under lock, write) four; on a
// login's path, with its requests each creating, updating and deleting
// records, those round trips were most of the database's work and much of
// the server's CPU (TestPostgresRoundTripsPerFlow in cmd/tsubasa/e2e
// counts them per flow).

// carries says whether ctx's unit holds writes that the next write must
// carry in its transaction (units.go).
func (s *Store) carries(ctx context.Context) bool {
	u := s.unitOf(ctx)
	if u == nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.held) > 0
}

// writeStatement runs a write of one statement. PostgreSQL runs a
// statement sent alone as a transaction of its own, as atomic as one with
// BEGIN and COMMIT around it, in one round trip instead of three
// (Store.statement). When ctx's unit holds writes, the statement goes
// with them in their transaction, as every write does (Store.write).
func (s *Store) writeStatement(ctx context.Context, fn func(context.Context, querier) error) error {
	if s.carries(ctx) {
		return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
	}
	return s.statement(ctx, func(q querier) error { return fn(ctx, q) })
}

// updatePipelined is updateOne's transaction in two round trips: BEGIN
// with SELECT … FOR UPDATE, then the UPDATE with COMMIT. The row is
// locked from the read to the commit, as in updateTx, so concurrent
// updates in any process are serialised on it. Whatever stops the update
// (the record missing, fn's error, the write failing, ctx ending) rolls
// back; a connection that could not roll back is not idle, and the pool
// closes it instead of reusing it.
func updatePipelined[T any](ctx context.Context, s *Store, t *table[T], key []any, fn func(T) (T, error)) error {
	return updatePipelinedWith(ctx, s, t, key, fn, nil)
}

// also is a write that goes with an update, in its second round trip:
// queue adds its statements after the UPDATE, errOf maps the batch's
// error when it is one of them (nil: the update's own).
type also struct {
	queue func(b *pgx.Batch) error
	errOf func(err error) error
}

// updatePipelinedWith is updatePipelined with more writes in the same
// transaction (IssueAuthCode: the code with its request's update).
func updatePipelinedWith[T any](ctx context.Context, s *Store, t *table[T], key []any, fn func(T) (T, error), more *also) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	var err error
	for range maxTries {
		err = s.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
			return updateOnConn(ctx, c.Conn(), t, key, fn, more)
		})
		if !retryable(err) {
			break
		}
	}
	return err
}

func updateOnConn[T any](ctx context.Context, conn *pgx.Conn, t *table[T], key []any, fn func(T) (T, error), more *also) (err error) {
	committed := false
	defer func() {
		if !committed && conn.PgConn().TxStatus() != 'I' {
			// Also when ctx is done: the transaction must not outlive it.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
		}
	}()
	var (
		cur     T
		scanErr error
	)
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(t.selForUpdate, key...).QueryRow(func(row pgx.Row) error {
		cur, scanErr = t.scan(row, key)
		return nil
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return wrap(t.name(key), err)
	}
	if scanErr != nil {
		return scanErr
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	if !sameKey(t.keyOf(&next), key) {
		return fmt.Errorf("postgres: %s: an update may not change the key", t.name(key))
	}
	if err := t.checkKey(&next); err != nil {
		return err
	}
	args, err := t.args(&next)
	if err != nil {
		return err
	}
	b = &pgx.Batch{}
	b.Queue(t.update, args...)
	if more != nil {
		if err := more.queue(b); err != nil {
			return err
		}
	}
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if more != nil {
			if merr := more.errOf(err); merr != nil {
				return merr
			}
		}
		return t.execErr(&next, err)
	}
	committed = true
	return nil
}
