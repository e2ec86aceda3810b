package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsubasa/storage"
)

// Store is the PostgreSQL backend. It implements storage.Store, is safe
// for concurrent use, and any number of Stores (in any number of
// processes) may share one database.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time
	opts Options

	// secretMu serialises the slow path of Secret so that create runs once
	// per process even when many callers miss at the same time.
	secretMu sync.Mutex

	feed      *feed                         // notifications from the other processes (feed.go)
	revoked   *revocations                  // in-memory copy of token_revocations
	members   *recordCache[storage.Member]  // decoded members for MemberByID
	sessCache *recordCache[storage.Session] // browser sessions for SessionByIDCached
	subs      *subscribers                  // OnChange's, told by the feed (changes.go)

	closed    atomic.Bool
	closeOnce sync.Once
}

var (
	_ storage.Store = (*Store)(nil)
	_ storage.Fresh = (*Store)(nil)
)

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("postgres: store is closed")

// Open connects to the database, applies pending migrations (unless
// NoMigrate) and starts listening for the changes other processes make.
// It fails when the database's schema is newer than this code knows, and,
// with NoMigrate, when migrations are pending.
func Open(ctx context.Context, o Options) (*Store, error) {
	o = o.withDefaults()
	cfg, err := poolConfig(o)
	if err != nil {
		return nil, err
	}
	if err := prepareSchema(ctx, cfg.ConnConfig, o.NoMigrate, o.Logger); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, log: o.Logger, now: o.Now, opts: o,
		revoked: newRevocations(o.RevokeFor), members: newMemberCache(), sessCache: newSessionCache(), subs: newSubscribers()}
	s.feed = newFeed(s, cfg.ConnConfig)
	if err := s.feed.start(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.log.Debug("storage opened", "backend", "postgres", "max_conns", o.MaxConns,
		"revocation_delay", o.RevocationDelay.String())
	return s, nil
}

// Close stops the listener and closes the pool. Calls after Close fail;
// a second Close is a no-op.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.feed.stop()
		s.pool.Close()
	})
	return nil
}

// live fails when ctx is done or the store is closed.
func (s *Store) live(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// txFunc is one write: it runs in a transaction and may run more than
// once (after a deadlock, or held in a unit and carried by another
// write), so it must reset whatever results it captures.
type txFunc func(ctx context.Context, tx pgx.Tx) error

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxTries bounds the retries of a transaction that PostgreSQL aborted to
// break a deadlock.
const maxTries = 5

// tx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise, and runs it again when PostgreSQL aborted it as a
// deadlock victim or a serialisation failure.
func (s *Store) tx(ctx context.Context, fn txFunc) error {
	var err error
	for range maxTries {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
		if !retryable(err) {
			break
		}
	}
	return err
}

// write runs fn in a transaction, carrying what ctx's unit holds (see
// units.go): the held writes run first, then fn behind a savepoint. An
// error from fn undoes fn's writes only, as bolt's aborts do: the held
// writes still commit, and the caller gets fn's error. A held write that
// fails fails the transaction, fn's error being the held write's.
func (s *Store) write(ctx context.Context, fn txFunc) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	u := s.unitOf(ctx)
	if u == nil {
		return s.tx(ctx, fn)
	}
	held, after := u.take()
	if len(held) == 0 {
		return s.tx(ctx, fn)
	}
	var fnErr error
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		fnErr = nil
		if err := runHeld(ctx, tx, held); err != nil {
			return err
		}
		sp, err := tx.Begin(ctx) // a savepoint
		if err != nil {
			return err
		}
		if fnErr = fn(ctx, sp); fnErr != nil {
			if retryable(fnErr) {
				return fnErr
			}
			return sp.Rollback(ctx)
		}
		return sp.Commit(ctx)
	})
	u.settled(err, after)
	if err != nil {
		return err
	}
	return fnErr
}

// retryable reports a transaction PostgreSQL aborted so that another could
// go on: running it again is the documented response.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isUniqueViolation reports a unique or primary key violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// alreadyExists is the error for a taken key of what. It does not wrap
// PostgreSQL's error, whose detail would quote the key.
func alreadyExists(what string) error {
	return fmt.Errorf("postgres: %s: %w", what, storage.ErrAlreadyExists)
}

func notFound(what string) error {
	return fmt.Errorf("postgres: %s: %w", what, storage.ErrNotFound)
}

// wrap adds context to an unexpected error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// notifyChannel carries the changes other processes must see (feed.go).
const notifyChannel = "tsubasa_changes"

// notify queues a notification, delivered when tx commits.
func notify(ctx context.Context, tx pgx.Tx, payload string) error {
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", notifyChannel, payload)
	return err
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// Ping reports whether the database answers, through the pool (which
// replaces connections the server ended): for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	return wrap("ping", s.pool.Ping(ctx))
}
