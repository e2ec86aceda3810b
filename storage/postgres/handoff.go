package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsubasa/storage"
)

// An update of an authorization request in one round trip instead of two.
// Within one HTTP request the login UI and the provider hand each other
// the request as that HTTP request last stored it (storage.WithHandoff):
// op creates it, the login UI completes it, the provider marks its code.
// When ctx carries such a copy, UpdateAuthRequest applies fn to the copy
// and writes the result with one compare-and-swap statement: the row is
// replaced only if its data is still, byte for byte, the copy's encoding.
// The comparison runs under the row lock the UPDATE takes (a concurrent
// writer's commit makes PostgreSQL evaluate the condition again on the
// newest version), so a success is exactly UpdateX's "fn applied to the
// current record, atomically". Anything else (another writer got there
// first, another encoding, fn refusing the copy) falls back to the locked
// read and write, where fn runs again on the row as it is: the copy never
// decides an outcome by itself.

// swapAuthRequestSQL replaces the request if its data is still $5.
const swapAuthRequestSQL = `UPDATE auth_requests SET expires_at = $2, expires_ns = $3, data = $4
WHERE id = $1 AND data::text = $5`

// issueSwapSQL is swapAuthRequestSQL with the insert of a code (codeRow's
// values from $6), in one statement: the code is stored only if the swap
// wrote (IssueAuthCode).
var issueSwapSQL = `WITH r AS (` + swapAuthRequestSQL + ` RETURNING id)
INSERT INTO auth_codes (` + strings.Join(codeCols, ", ") + `)
SELECT ` + codeParams(6) + ` FROM r`

// swapAuthRequest tries the one-statement update from ctx's handed-off
// copy of request id, storing code with it when code is not nil. It
// reports whether it wrote; false with a nil error means the caller must
// take the locked path.
func (s *Store) swapAuthRequest(ctx context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error), code *storage.AuthCode) (bool, error) {
	cur, ok := storage.HandedAuthRequest(ctx, id)
	if !ok || !storable(id) {
		return false, nil
	}
	old, err := encode(cur) // before fn, which may change cur's slices
	if err != nil {
		return false, nil
	}
	next, err := fn(cur)
	if err != nil {
		return false, nil // decided on the row itself, under its lock
	}
	if next.ID != id {
		return false, fmt.Errorf("postgres: %s: an update may not change the key", authRequests.name([]any{id}))
	}
	args, err := authRequests.args(&next)
	if err != nil {
		return false, err
	}
	sql, args := swapAuthRequestSQL, append(args, string(old))
	if code != nil {
		cargs, err := codeRow(code, &next)
		if err != nil {
			return false, err
		}
		sql, args = issueSwapSQL, append(args, cargs...)
	}
	var wrote bool
	err = s.writeStatement(ctx, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, sql, args...)
		if err != nil {
			if cerr := codeErr(err); code != nil && cerr != nil {
				return cerr
			}
			return wrap(authRequests.name([]any{id}), err)
		}
		wrote = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return false, err
	}
	if wrote {
		storage.HandOffAuthRequest(ctx, next)
	}
	return wrote, nil
}

// IssueAuthCode applies fn to c's request and stores c, in one commit;
// see storage.AuthRequests. From the request handed off in ctx, one
// statement (issueSwapSQL); otherwise the pipelined update (BEGIN with
// the locked read, then the UPDATE, the code's INSERT and COMMIT): two
// round trips instead of the three of an update and a code apart.
func (s *Store) IssueAuthCode(ctx context.Context, c storage.AuthCode, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	if err := authCodes.checkKey(&c); err != nil {
		return err
	}
	id := c.AuthRequestID
	if !storable(id) || !storable(c.Hash) {
		return notFound(authRequests.name([]any{id}))
	}
	if cur, ok := storage.UnstoredAuthRequest(ctx, id); ok {
		return s.issueUnstored(ctx, cur, c, fn)
	}
	if wrote, err := s.swapAuthRequest(ctx, id, fn, &c); wrote || err != nil {
		return err
	}
	var next storage.AuthRequest
	apply := func(r storage.AuthRequest) (storage.AuthRequest, error) {
		var err error
		next, err = fn(r)
		return next, err
	}
	key := []any{id}
	var err error
	if s.carries(ctx) {
		err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := authRequests.updateTx(ctx, tx, key, apply); err != nil {
				return err
			}
			return createCode(ctx, tx, &c, &next)
		})
	} else {
		err = updatePipelinedWith(ctx, s, authRequests, key, apply, &also{
			queue: func(b *pgx.Batch) error {
				args, err := codeRow(&c, &next) // next: fn's result, the request as it will be stored
				if err != nil {
					return err
				}
				b.Queue(insertCodeSQL, args...)
				return nil
			},
			errOf: codeErr,
		})
	}
	if err == nil {
		storage.HandOffAuthRequest(ctx, next)
	}
	return err
}

// codeErr maps the error of a statement that inserted a code: a taken
// key is ErrAlreadyExists; nil when the error is not the code's.
func codeErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.TableName != "auth_codes" {
		return nil
	}
	if isUniqueViolation(err) {
		return alreadyExists(authCodes.name(nil))
	}
	return wrap(authCodes.name(nil), err)
}

// A request created under a deferred handoff (storage.DeferAuthRequest)
// is held unstored until its code or the answer: on an SSO answer,
// /authorize creates it, the login UI completes it and the provider
// issues its code, and it is stored once, in its final state, in the
// code's statement (issueUnstoredSQL), instead of an INSERT and two
// compare-and-swaps. Nobody else can know of it meanwhile (its id first
// appears in the answer), so the held copy decides as the row would.

// issueUnstoredSQL inserts a request and its code (codeRow's values from
// $5 on) in one statement: both or neither.
var issueUnstoredSQL = "WITH r AS (" + authRequests.insert + ")\nINSERT INTO auth_codes (" +
	strings.Join(codeCols, ", ") + ") VALUES (" + codeParams(len(authRequests.allCols())+1) + ")"

// issueUnstored is IssueAuthCode for a request held unstored: fn on the
// held copy, then the request and the code in one statement.
func (s *Store) issueUnstored(ctx context.Context, cur storage.AuthRequest, c storage.AuthCode, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	next, err := applyUnstored(cur.ID, cur, fn)
	if err != nil {
		return err
	}
	args, err := authRequests.args(&next)
	if err != nil {
		return err
	}
	cargs, err := codeRow(&c, &next)
	if err != nil {
		return err
	}
	args = append(args, cargs...)
	err = s.writeStatement(ctx, func(ctx context.Context, q querier) error {
		if _, err := q.Exec(ctx, issueUnstoredSQL, args...); err != nil {
			if cerr := codeErr(err); cerr != nil {
				return cerr
			}
			if isUniqueViolation(err) {
				return alreadyExists(authRequests.name([]any{cur.ID}))
			}
			return wrap(authRequests.name([]any{cur.ID}), err)
		}
		return nil
	})
	if err == nil {
		storage.AuthRequestStored(ctx, next)
	}
	return err
}

// applyUnstored applies an update's fn to a request held unstored.
func applyUnstored(id string, cur storage.AuthRequest, fn func(storage.AuthRequest) (storage.AuthRequest, error)) (storage.AuthRequest, error) {
	next, err := fn(cur)
	if err != nil {
		return storage.AuthRequest{}, err
	}
	if next.ID != id {
		return storage.AuthRequest{}, fmt.Errorf("postgres: %s: an update may not change the key", authRequests.name([]any{id}))
	}
	return next, nil
}
