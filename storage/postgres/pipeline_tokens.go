package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsubasa/storage"
)

// A refresh token's rotation in two round trips instead of five: BEGIN
// with the rotation's claim, then the new tokens with COMMIT. What the
// claim found decides whether the second goes out at all; anything that
// stops the transaction rolls it back (the token stays unclaimed), as
// RotateRefreshToken's single-transaction form does. (A code's claim
// with its tokens is one statement: claimone.go.)

// pipelined runs first's statements after BEGIN, then (when then returns
// a batch) that batch and COMMIT, on one connection in one transaction,
// again after a deadlock. thenErr maps the error of then's batch.
func (s *Store) pipelined(ctx context.Context, first func(b *pgx.Batch), then func(conn *pgx.Conn) (*pgx.Batch, error),
	thenErr func(error) error) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	var err error
	for range maxTries {
		err = s.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
			conn := c.Conn()
			committed := false
			defer func() {
				if !committed && conn.PgConn().TxStatus() != 'I' {
					_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
				}
			}()
			b := &pgx.Batch{}
			b.Queue("begin")
			first(b)
			if err := conn.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			b, err := then(conn)
			if err != nil {
				return err
			}
			b.Queue("commit")
			if err := conn.SendBatch(ctx, b).Close(); err != nil {
				return thenErr(err)
			}
			committed = true
			return nil
		})
		if !retryable(err) {
			break
		}
	}
	return err
}

// queueTokens queues the inserts of ts; failed is then the index of the
// first that did not go in (len(ts) when all did).
func queueTokens(b *pgx.Batch, ts []storage.Token, failed *int) error {
	*failed = 0
	for i := range ts {
		if err := tokens.checkKey(&ts[i]); err != nil {
			return err
		}
		args, err := tokens.args(&ts[i])
		if err != nil {
			return err
		}
		b.Queue(tokens.insert, args...).Exec(func(pgconn.CommandTag) error { *failed++; return nil })
	}
	return nil
}

// tokensErr maps the error of a batch that inserted ts.
func tokensErr(err error, ts []storage.Token, failed int) error {
	if err == nil {
		return nil
	}
	if isUniqueViolation(err) && failed < len(ts) {
		return alreadyExists(tokens.name([]any{ts[failed].ID}))
	}
	return wrap("create tokens", err)
}

// rotatePipelined is RotateRefreshToken without a unit's held writes to
// carry.
func (s *Store) rotatePipelined(ctx context.Context, oldID string, now time.Time, next []storage.Token) (storage.Token, error) {
	var (
		data      []byte
		rotateErr error
		out       storage.Token
		failed    int
	)
	err := s.pipelined(ctx, func(b *pgx.Batch) {
		data, rotateErr, out = nil, nil, storage.Token{}
		b.Queue(rotateSQL, oldID, now, ns(now)).QueryRow(func(row pgx.Row) error {
			rotateErr = row.Scan(&data)
			return nil
		})
	}, func(conn *pgx.Conn) (*pgx.Batch, error) {
		if errors.Is(rotateErr, pgx.ErrNoRows) {
			// Lost or refused: say why, from the row as it now is.
			var err error
			out, err = rotateRefused(ctx, conn, oldID, now)
			return nil, err
		}
		if rotateErr != nil {
			return nil, wrap("rotate refresh token", rotateErr)
		}
		var old storage.Token
		if err := decode(data, &old); err != nil {
			return nil, wrap("rotate refresh token", err)
		}
		old.Consumed = true
		out = old
		b := &pgx.Batch{}
		return b, queueTokens(b, next, &failed)
	}, func(err error) error { return tokensErr(err, next, failed) })
	if err != nil {
		if errors.Is(err, storage.ErrConsumed) {
			return out, err // a replay: the caller revokes the family
		}
		return storage.Token{}, err
	}
	return out, nil
}
