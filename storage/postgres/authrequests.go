package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// Authorization requests are rows from CreateAuthRequest on (bolt keeps
// them in memory until their code): any replica may serve any step of a
// login, so each step must find the request in the database.
var authRequests = newTable(table[storage.AuthRequest]{
	kind:   "auth request",
	key:    []string{"id"},
	keyOf:  func(r *storage.AuthRequest) []any { return []any{r.ID} },
	cols:   []string{"expires_at", "expires_ns"},
	colsOf: func(r *storage.AuthRequest) []any { return []any{r.ExpiresAt, ns(r.ExpiresAt)} },
}, "auth_requests")

var authCodes = newTable(table[storage.AuthCode]{
	kind:  "auth code",
	key:   []string{"hash"},
	keyOf: func(c *storage.AuthCode) []any { return []any{c.Hash} },
	cols:  []string{"auth_request_id", "consumed", "expires_at", "expires_ns"},
	colsOf: func(c *storage.AuthCode) []any {
		return []any{c.AuthRequestID, c.Consumed, c.ExpiresAt, ns(c.ExpiresAt)}
	},
	// The key is a hash of a bearer secret: keep it out of error messages.
	label:    func([]any) string { return "auth code" },
	consumed: func(c *storage.AuthCode) *bool { return &c.Consumed },
}, "auth_codes")

// A code's row. Every insert of a code takes its columns and values from
// codeCols and codeRow: a code stored with its request known carries the
// keys of every revocation that could select its tokens and the
// request's member, which the code exchange's read joins on
// (freshcode.go); one stored without (SaveAuthCode) carries NULLs there,
// and that read leaves its fresh facts to the separate reads.

// codeCols are auth_codes' columns in the order of codeRow's values: the
// table's (authCodes.args), then the revocation keys and the member.
var codeCols = append(authCodes.allCols(), "revocation_keys", "member_id")

// codeTypes are codeCols' SQL types. A code inserted by INSERT … SELECT
// (issueSwapSQL) needs its parameters cast: PostgreSQL does not take
// their types from the columns there.
var codeTypes = map[string]string{
	"hash": "text", "auth_request_id": "text", "consumed": "boolean", "expires_at": "timestamptz",
	"expires_ns": "smallint", "data": "json", "revocation_keys": "bytea[]", "member_id": "text",
}

// codeParams are the placeholders of codeRow's values from $first on,
// each cast to its column's type, for a VALUES list or a SELECT. It runs
// when the package initialises: a column without a type stops every
// test at once.
func codeParams(first int) string {
	ps := make([]string, len(codeCols))
	for i, c := range codeCols {
		typ, ok := codeTypes[c]
		if !ok {
			panic("postgres: no SQL type for auth_codes column " + c)
		}
		ps[i] = fmt.Sprintf("$%d::%s", first+i, typ)
	}
	return strings.Join(ps, ", ")
}

// insertCodeSQL stores one code from codeRow's values.
var insertCodeSQL = "INSERT INTO auth_codes (" + strings.Join(codeCols, ", ") + ") VALUES (" + codeParams(1) + ")"

// codeRow returns the values of code c's row, in codeCols' order (the
// statement: insertCodeSQL, or codeCols and codeParams in one of its
// own). r is c's request as the same commit stores it (fn's result when
// the code is issued with an update): the row then carries the keys of
// every revocation that could select the code's tokens (candidateKeys of
// storage.CodeToken(c, r), in that order) and r.MemberID as it is. With
// r nil, a request not known, both are NULL.
func codeRow(c *storage.AuthCode, r *storage.AuthRequest) ([]any, error) {
	args, err := authCodes.args(c)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return append(args, nil, nil), nil
	}
	tok := storage.CodeToken(*c, *r)
	return append(args, candidateKeys(&tok), r.MemberID), nil
}

// createCode stores code c of request r (nil: unknown) with q.
func createCode(ctx context.Context, q querier, c *storage.AuthCode, r *storage.AuthRequest) error {
	if err := authCodes.checkKey(c); err != nil {
		return err
	}
	args, err := codeRow(c, r)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, insertCodeSQL, args...)
	return authCodes.execErr(c, err)
}

const (
	// claimCodeSQL is the claim of a code: one statement, so that of
	// concurrent claims (in any number of processes) exactly one finds the
	// row unconsumed; the others wait for its row lock and then find it
	// consumed.
	claimCodeSQL = `UPDATE auth_codes SET consumed = true
WHERE hash = $1 AND NOT consumed AND (expires_at, expires_ns) > ($2, $3)
RETURNING data`
	// takeRequestSQL deletes the claimed code's request and returns it.
	takeRequestSQL = "DELETE FROM auth_requests WHERE id = $1 RETURNING data"
)

// CreateAuthRequest stores a new authorization request. Under a deferred
// handoff (an SSO answer's /authorize, storage.WithDeferredHandoff) it
// holds the request unstored instead: stored once, with its code or at
// the answer, rather than inserted and then updated (handoff.go).
func (s *Store) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	if err := authRequests.checkKey(&r); err != nil {
		return err
	}
	if err := s.live(ctx); err != nil {
		return err
	}
	if storable(r.ID) && storage.DeferAuthRequest(ctx, r, s.storeDeferred) {
		return nil
	}
	if err := createOne(ctx, s, authRequests, r); err != nil {
		return err
	}
	storage.HandOffAuthRequest(ctx, r) // the next update in this HTTP request swaps
	return nil
}

// storeDeferred stores a request held unstored, as it is at the answer
// (storage.FlushHandoff).
func (s *Store) storeDeferred(ctx context.Context, r storage.AuthRequest) error {
	return createOne(ctx, s, authRequests, r)
}

// AuthRequestByID returns the request, even when expired.
func (s *Store) AuthRequestByID(ctx context.Context, id string) (storage.AuthRequest, error) {
	if r, ok := storage.UnstoredAuthRequest(ctx, id); ok {
		return r, nil // created in this HTTP request, not stored yet
	}
	return getOne(ctx, s, authRequests, id)
}

// UpdateAuthRequest applies fn to the request, its row locked meanwhile:
// of concurrent binders on any replica, each sees the one before.
// With the request as this HTTP request last stored it handed off in
// ctx, one compare-and-swap statement instead (handoff.go); a request
// held unstored is updated where it is held.
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	if cur, ok := storage.UnstoredAuthRequest(ctx, id); ok {
		next, err := applyUnstored(id, cur, fn)
		if err == nil {
			storage.UpdateUnstoredAuthRequest(ctx, next)
		}
		return err
	}
	if wrote, err := s.swapAuthRequest(ctx, id, fn, nil); wrote || err != nil {
		return err
	}
	var next storage.AuthRequest
	err := updateOne(ctx, s, authRequests, []any{id}, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		var err error
		next, err = fn(r)
		return next, err
	})
	if err == nil {
		storage.HandOffAuthRequest(ctx, next) // the next update in this HTTP request swaps
	}
	return err
}

// DeleteAuthRequest deletes the request (its codes expire on their own).
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	if storage.DropUnstoredAuthRequest(ctx, id) {
		return nil // never stored
	}
	return deleteOne(ctx, s, authRequests, id)
}

// SaveAuthCode stores a new authorization code; its request first, if
// it is held unstored. Its request is not known here, so neither are its
// revocation keys (codeRow).
func (s *Store) SaveAuthCode(ctx context.Context, c storage.AuthCode) error {
	if err := storage.FlushHandoff(ctx); err != nil {
		return err
	}
	return s.writeStatement(ctx, func(ctx context.Context, q querier) error { return createCode(ctx, q, &c, nil) })
}

// PeekAuthCode returns the code and its request; see storage.AuthRequests.
func (s *Store) PeekAuthCode(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	if err := s.live(ctx); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, err
	}
	return findCode(ctx, s.pool, hash, now)
}

// findCodeSQL reads a code and its request in one statement: one round
// trip instead of two for the token endpoint's look at a code, and one
// snapshot of both rows. The request is NULL when it is gone.
const findCodeSQL = `SELECT c.data, c.consumed, r.data FROM auth_codes c
LEFT JOIN auth_requests r ON r.id = c.auth_request_id WHERE c.hash = $1`

// findCode reads the code and its request and decides as a claim would
// (judgeCode).
func findCode(ctx context.Context, q querier, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	c, r, rerr, err := readCode(ctx, q, hash)
	return judgeCode(c, r, rerr, err, now)
}

// judgeCode decides on a code read with its request as a claim would: an
// unknown or expired code, or one whose request is gone, is ErrNotFound;
// a consumed one ErrConsumed, returned with the code (and the request if
// still there). err is the read's error, rerr the request's (readCode).
func judgeCode(c storage.AuthCode, r storage.AuthRequest, rerr, err error, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	if err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, err
	}
	if !now.Before(c.ExpiresAt) {
		return storage.AuthCode{}, storage.AuthRequest{}, notFound("auth code expired at " + c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if c.Consumed {
		// A replay: hand back what the first claim saw, so the caller can
		// revoke what it minted. The request is gone by now, as a rule.
		return c, r, fmt.Errorf("postgres: auth code of auth request %q: %w", c.AuthRequestID, storage.ErrConsumed)
	}
	if rerr != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, fmt.Errorf("postgres: auth code: %w", rerr)
	}
	return c, r, nil
}

// readCode reads code hash and its request (findCodeSQL). err is the
// code's error; rerr says the request is gone (r is then empty).
func readCode(ctx context.Context, q querier, hash string) (c storage.AuthCode, r storage.AuthRequest, rerr, err error) {
	if !storable(hash) {
		return c, r, nil, notFound("auth code")
	}
	var cdata, rdata []byte
	err = q.QueryRow(ctx, findCodeSQL, hash).Scan(&cdata, &c.Consumed, &rdata)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, r, nil, notFound("auth code")
	}
	if err != nil {
		return c, r, nil, wrap("auth code", err)
	}
	return decodeCode(cdata, c.Consumed, rdata)
}

// decodeCode decodes a code's row and its request's (nil when gone), as
// readCode returns them.
func decodeCode(cdata []byte, consumed bool, rdata []byte) (c storage.AuthCode, r storage.AuthRequest, rerr, err error) {
	if err := decode(cdata, &c); err != nil {
		return storage.AuthCode{}, r, nil, wrap("auth code", err)
	}
	c.Consumed = consumed // the column wins over data, as in every read of a code
	if rdata == nil {
		return c, r, notFound(authRequests.name([]any{c.AuthRequestID})), nil
	}
	if err := decode(rdata, &r); err != nil {
		return c, storage.AuthRequest{}, nil, wrap(authRequests.name([]any{c.AuthRequestID}), err)
	}
	return c, r, nil, nil
}

// ClaimAuthCode marks the code consumed, deletes its request, stores ts and
// returns the code (as now stored) and the request, in one transaction;
// see storage.AuthRequests.
func (s *Store) ClaimAuthCode(ctx context.Context, hash string, now time.Time, ts ...storage.Token) (storage.AuthCode, storage.AuthRequest, error) {
	if storable(hash) && !s.carries(ctx) {
		return s.claimOne(ctx, hash, now, ts) // one round trip (claimone.go)
	}
	var (
		code storage.AuthCode
		req  storage.AuthRequest
	)
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		code, req = storage.AuthCode{}, storage.AuthRequest{}
		if !storable(hash) {
			return notFound("auth code")
		}
		c, r, err := claimInTx(ctx, tx, hash, now)
		if err != nil {
			code, req = c, r // a replay returns what the first claim saw
			return err
		}
		if err := createTokens(ctx, tx, ts); err != nil {
			return err
		}
		code, req = c, r
		return nil
	})
	return code, req, err
}

// claimInTx claims code hash in tx and deletes its request: the code (as
// now stored) and the request. A code it cannot claim (lost, replayed,
// expired, unknown: findCode says which, and hands a replay what the
// first claim saw) or whose request is gone is an error, for tx to roll
// back: the code then stays unclaimed.
func claimInTx(ctx context.Context, tx pgx.Tx, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, error) {
	var data []byte
	err := tx.QueryRow(ctx, claimCodeSQL, hash, now, ns(now)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		c, r, ferr := findCode(ctx, tx, hash, now)
		if ferr == nil {
			ferr = errors.New("postgres: auth code: not claimed for no known reason")
		}
		return c, r, ferr
	}
	if err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, wrap("claim auth code", err)
	}
	var c storage.AuthCode
	if err := decode(data, &c); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, wrap("claim auth code", err)
	}
	c.Consumed = true
	// The request goes with its code: the caller has it now, and a
	// replay needs only the code's AuthRequestID.
	r, err := authRequests.scan(tx.QueryRow(ctx, takeRequestSQL, c.AuthRequestID), []any{c.AuthRequestID})
	if err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, fmt.Errorf("postgres: auth code: %w", err)
	}
	return c, r, nil
}
