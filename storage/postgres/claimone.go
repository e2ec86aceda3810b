package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsubasa/storage"
)

// The token endpoint's two writes, a code's claim and a refresh token's
// rotation, each with the tokens it mints in one statement: one round
// trip, a transaction of its own without BEGIN and COMMIT, instead of
// BEGIN with the claim and then the tokens with COMMIT. (A claim in a
// unit's transaction, which carries held writes, takes the
// single-transaction form instead.) A code's claim:
//
// The statement's data-modifying CTEs all run, in one snapshot, and the
// statement commits all of them or none. c claims the code (claimCodeSQL:
// of concurrent claims one finds it unconsumed), r deletes its request,
// and each t<i> inserts a token only if r deleted the request. The rule
// for a claim that cannot finish is ClaimAuthCode's: it changes nothing.
//
//   - Lost, replayed, expired or unknown code: c claims no row, so r
//     deletes none and no token goes in; the statement returns no row and
//     has changed nothing. findCode then says why.
//   - The request deleted before the statement's snapshot, or by a
//     transaction that committed while r waited for its row: r deletes
//     nothing, no token goes in, and the row's last column divides by the
//     number of requests deleted, zero, so the statement fails (22012)
//     and rolls back the claim as well: the code stays unclaimed, and the
//     error is ErrNotFound, as when the request was gone before.
//   - A token id taken: the insert fails (unique violation), the
//     statement rolls back whole: the code stays unclaimed, and the
//     error is ErrAlreadyExists.
//
// One statement can roll itself back only by failing, hence the
// division; every other way for it to end commits what it did.

// claimAndTakeCTEs are the claim of code $1 at ($2, $3), c, and the
// deletion of its request, r.
const claimAndTakeCTEs = `WITH c AS (` + claimCodeSQL + `, auth_request_id),
r AS (DELETE FROM auth_requests WHERE id IN (SELECT auth_request_id FROM c) RETURNING data)`

// claimOneSQL returns the statement for n tokens, built once per n.
func claimOneSQL(n int) string {
	return perTokenCount(&claimOneSQLs, n, func(b *strings.Builder) {
		b.WriteString(claimAndTakeCTEs)
		insertTokens(b, n, "r", 4)
		b.WriteString("\nSELECT c.data, r.data, 1 / (SELECT count(*) FROM r)::int FROM c LEFT JOIN r ON true")
	})
}

// perTokenCount returns the statement build writes for n tokens, built
// once per n and kept in cache.
func perTokenCount(cache *sync.Map, n int, build func(b *strings.Builder)) string {
	if q, ok := cache.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	build(&b)
	q, _ := cache.LoadOrStore(n, b.String())
	return q.(string)
}

// insertTokens writes the CTEs t0 … t<n-1> that insert n tokens, from
// parameter $first on (those before are the claim's), each only if the
// CTE cond returned a row.
func insertTokens(b *strings.Builder, n int, cond string, first int) {
	cols := tokens.allCols()
	p := first
	for i := range n {
		params := make([]string, len(cols))
		for j := range cols {
			params[j] = "$" + strconv.Itoa(p)
			p++
		}
		fmt.Fprintf(b, ",\nt%d AS (INSERT INTO tokens (%s) SELECT %s WHERE EXISTS (SELECT 1 FROM %s))",
			i, strings.Join(cols, ", "), strings.Join(params, ", "), cond)
	}
}

// rotateOneSQL returns RotateRefreshToken's statement for n new tokens,
// built once per n: the rotation's claim (rotateSQL) and the new tokens,
// each inserted only if the claim found its row. A rotation has no
// request to lose, so only a taken token id rolls it back (a unique
// violation fails the statement: the old token stays unclaimed).
func rotateOneSQL(n int) string {
	return perTokenCount(&rotateOneSQLs, n, func(b *strings.Builder) {
		b.WriteString(`WITH o AS (` + rotateSQL + `)`)
		insertTokens(b, n, "o", 4)
		b.WriteString("\nSELECT o.data FROM o")
	})
}

var rotateOneSQLs sync.Map // token count → statement

var claimOneSQLs sync.Map // token count → statement

// claimOne is ClaimAuthCode without a unit's held writes to carry, in one
// statement (claimOneSQL).
func (s *Store) claimOne(ctx context.Context, hash string, now time.Time, ts []storage.Token) (storage.AuthCode, storage.AuthRequest, error) {
	if err := s.live(ctx); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, err
	}
	args, err := tokenArgs([]any{hash, now, ns(now)}, ts)
	if err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, err
	}
	var (
		cdata, rdata []byte
		one          int
	)
	if err := s.queryRowRetried(ctx, claimOneSQL(len(ts)), args, &cdata, &rdata, &one); err != nil {
		return s.claimFailed(ctx, hash, now, ts, err)
	}
	var c storage.AuthCode
	if err := decode(cdata, &c); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, wrap("claim auth code", err)
	}
	c.Consumed = true
	var r storage.AuthRequest
	if err := decode(rdata, &r); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, wrap(authRequests.name([]any{c.AuthRequestID}), err)
	}
	return c, r, nil
}

// queryRowRetried runs a one-row statement and scans its row into dest,
// again while the error is one worth retrying (retryable).
func (s *Store) queryRowRetried(ctx context.Context, sql string, args []any, dest ...any) error {
	var err error
	for range maxTries {
		err = s.pool.QueryRow(ctx, sql, args...).Scan(dest...)
		if !retryable(err) {
			break
		}
	}
	return err
}

// claimFailed explains the error of a one-statement claim (claimOneSQL,
// claimFreshSQL), which changed nothing: no row is a code lost,
// replayed, expired or unknown (findCode says which, and hands a replay
// what the first claim saw); a division by zero a request gone; a
// unique violation a token id taken.
func (s *Store) claimFailed(ctx context.Context, hash string, now time.Time, ts []storage.Token, err error) (storage.AuthCode, storage.AuthRequest, error) {
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		c, r, ferr := findCode(ctx, s.pool, hash, now)
		if ferr == nil {
			ferr = errors.New("postgres: auth code: not claimed for no known reason")
		}
		return c, r, ferr
	case errors.As(err, &pe) && pe.Code == "22012":
		return storage.AuthCode{}, storage.AuthRequest{}, fmt.Errorf("postgres: auth code: %w", notFound("auth request of the code"))
	case isUniqueViolation(err):
		return storage.AuthCode{}, storage.AuthRequest{}, s.takenToken(ctx, ts, err)
	}
	return storage.AuthCode{}, storage.AuthRequest{}, wrap("claim auth code", err)
}

// takenToken names the token of ts whose id is taken, after a unique
// violation rolled back claimOne's statement.
func (s *Store) takenToken(ctx context.Context, ts []storage.Token, err error) error {
	for i := range ts {
		var taken bool
		if qerr := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM tokens WHERE id = $1)", ts[i].ID).Scan(&taken); qerr == nil && taken {
			return alreadyExists(tokens.name([]any{ts[i].ID}))
		}
	}
	return fmt.Errorf("%w: %w", alreadyExists("token"), wrap("create tokens", err))
}

// tokenArgs appends the insert parameters of ts to args.
func tokenArgs(args []any, ts []storage.Token) ([]any, error) {
	for i := range ts {
		if err := tokens.checkKey(&ts[i]); err != nil {
			return nil, err
		}
		a, err := tokens.args(&ts[i])
		if err != nil {
			return nil, err
		}
		args = append(args, a...)
	}
	return args, nil
}

// rotateOne is RotateRefreshToken without a unit's held writes to carry,
// in one statement (rotateOneSQL).
func (s *Store) rotateOne(ctx context.Context, oldID string, now time.Time, next []storage.Token) (storage.Token, error) {
	if err := s.live(ctx); err != nil {
		return storage.Token{}, err
	}
	args, err := tokenArgs([]any{oldID, now, ns(now)}, next)
	if err != nil {
		return storage.Token{}, err
	}
	var data []byte
	err = s.queryRowRetried(ctx, rotateOneSQL(len(next)), args, &data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Lost or refused: say why, from the row as it now is; a replay
		// comes back with the token, for the caller to revoke its family.
		out, err := rotateRefused(ctx, s.pool, oldID, now)
		if errors.Is(err, storage.ErrConsumed) {
			return out, err
		}
		return storage.Token{}, err
	case isUniqueViolation(err):
		return storage.Token{}, s.takenToken(ctx, next, err)
	case err != nil:
		return storage.Token{}, wrap("rotate refresh token", err)
	}
	var old storage.Token
	if err := decode(data, &old); err != nil {
		return storage.Token{}, wrap("rotate refresh token", err)
	}
	old.Consumed = true
	return old, nil
}
