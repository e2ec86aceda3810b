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

var tokens = newTable(table[storage.Token]{
	kind:  "token",
	key:   []string{"id"},
	keyOf: func(t *storage.Token) []any { return []any{t.ID} },
	cols: []string{"kind", "member_id", "client_id", "session_id", "family_id", "auth_request_id",
		"consumed", "expires_at", "expires_ns"},
	colsOf: func(t *storage.Token) []any {
		return []any{string(t.Kind), null(t.MemberID), null(t.ClientID), null(t.SessionID), null(t.FamilyID),
			null(t.AuthRequestID), t.Consumed, t.ExpiresAt, ns(t.ExpiresAt)}
	},
	consumed: func(t *storage.Token) *bool { return &t.Consumed },
}, "tokens")

const (
	// rotateSQL is the claim of a refresh token: one statement, so that of
	// concurrent rotations (in any number of processes) exactly one finds
	// the row unconsumed; the others wait for its row lock and then find
	// it consumed.
	//
	// The row keeps only storage.Token.Tombstone's fields: the statement
	// builds its data from the old data (nothing is read first) and
	// empties the columns the tombstone has no value for.
	rotateSQL = `UPDATE tokens SET consumed = true, member_id = NULL, session_id = NULL, auth_request_id = NULL,
    data = json_build_object(` + tombstoneFields + `)
WHERE id = $1 AND kind = 'refresh' AND NOT consumed AND (expires_at, expires_ns) > ($2, $3)
RETURNING data`
	// tombstoneFields are the JSON pairs of storage.Token.Tombstone
	// (a conformance case compares the two).
	tombstoneFields = `'ID', data->'ID', 'Kind', data->'Kind', 'ClientID', data->'ClientID', 'FamilyID', data->'FamilyID',
'Consumed', true, 'ExpiresAt', data->'ExpiresAt'`
	tokenStateSQL = "SELECT data, consumed FROM tokens WHERE id = $1"
)

var errEmptyTokenFilter = errors.New("postgres: token filter: at least one field must be set")

// tokenWhere is the condition of a filter: every set field must match.
// The planner picks the most selective of the tokens_by_* indexes.
func tokenWhere(f storage.TokenFilter) (string, []any, error) {
	var conds []string
	var args []any
	for _, c := range []struct{ col, v string }{
		{"id", f.ID}, {"family_id", f.FamilyID}, {"auth_request_id", f.AuthRequestID},
		{"session_id", f.SessionID}, {"member_id", f.MemberID}, {"client_id", f.ClientID},
	} {
		if c.v != "" {
			args = append(args, c.v)
			conds = append(conds, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	if len(conds) == 0 {
		return "", nil, errEmptyTokenFilter
	}
	return strings.Join(conds, " AND "), args, nil
}

// createTokens inserts ts in tx, sent as one batch. A taken id, or one
// twice in ts, fails the transaction with ErrAlreadyExists.
func createTokens(ctx context.Context, tx pgx.Tx, ts []storage.Token) error {
	if len(ts) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i := range ts {
		if err := tokens.checkKey(&ts[i]); err != nil {
			return err
		}
		args, err := tokens.args(&ts[i])
		if err != nil {
			return err
		}
		b.Queue(tokens.insert, args...)
	}
	res := tx.SendBatch(ctx, b)
	for i := range ts {
		if _, err := res.Exec(); err != nil {
			res.Close()
			if isUniqueViolation(err) {
				return alreadyExists(tokens.name([]any{ts[i].ID}))
			}
			return wrap("create tokens", err)
		}
	}
	return wrap("create tokens", res.Close())
}

// CreateTokens stores all of ts or none.
func (s *Store) CreateTokens(ctx context.Context, ts ...storage.Token) error {
	if len(ts) == 0 {
		return s.live(ctx)
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return createTokens(ctx, tx, ts) })
}

// TokenByID returns the token, consumed refresh tokens included.
func (s *Store) TokenByID(ctx context.Context, id string) (storage.Token, error) {
	return getOne(ctx, s, tokens, id)
}

// RotateRefreshToken replaces oldID by its tombstone and stores next; see
// storage.Tokens. The returned token is the tombstone.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, now time.Time, next ...storage.Token) (storage.Token, error) {
	if storable(oldID) && !s.carries(ctx) {
		return s.rotateOne(ctx, oldID, now, next) // one round trip (claimone.go)
	}
	var out storage.Token
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = storage.Token{}
		if !storable(oldID) {
			return notFound("refresh token")
		}
		var data []byte
		err := tx.QueryRow(ctx, rotateSQL, oldID, now, ns(now)).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			// Lost or refused: say why, from the row as it now is.
			out, err = rotateRefused(ctx, tx, oldID, now)
			return err
		}
		if err != nil {
			return wrap("rotate refresh token", err)
		}
		var old storage.Token
		if err := decode(data, &old); err != nil {
			return wrap("rotate refresh token", err)
		}
		old.Consumed = true
		if err := createTokens(ctx, tx, next); err != nil {
			return err // rolled back: the old token stays unconsumed
		}
		out = old
		return nil
	})
	return out, err
}

// rotateRefused explains a rotation that matched no row, in the order of
// the storage contract: unknown, not a refresh token, expired, consumed.
func rotateRefused(ctx context.Context, q querier, id string, now time.Time) (storage.Token, error) {
	old, err := tokens.scan(q.QueryRow(ctx, tokenStateSQL, id), []any{id})
	switch {
	case err != nil:
		return storage.Token{}, err
	case old.Kind != storage.RefreshToken:
		return storage.Token{}, notFound(fmt.Sprintf("token %q is not a refresh token", id))
	case old.Expired(now):
		return storage.Token{}, notFound(fmt.Sprintf("refresh token %q expired", id))
	case old.Consumed:
		return old, fmt.Errorf("postgres: refresh token %q of family %q: %w", id, old.FamilyID, storage.ErrConsumed)
	}
	return storage.Token{}, fmt.Errorf("postgres: refresh token %q: not rotated for no known reason", id)
}

// DeleteToken deletes one token.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	return deleteOne(ctx, s, tokens, id)
}

// DeleteTokens deletes every token the filter selects and records the
// revocation for tokens that are not stored, in one transaction.
func (s *Store) DeleteTokens(ctx context.Context, f storage.TokenFilter) (int, error) {
	where, args, err := tokenWhere(f)
	if err != nil {
		return 0, err
	}
	var (
		n        int
		remember func()
	)
	now := s.now().UTC()
	err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		n = 0
		if storableKeys(args) {
			tag, err := tx.Exec(ctx, "DELETE FROM tokens WHERE "+where, args...)
			if err != nil {
				return wrap("delete tokens", err)
			}
			n = int(tag.RowsAffected())
		}
		var err error
		remember, err = s.putRevocation(ctx, tx, f, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	remember()
	return n, nil
}

// ListTokens returns every token the filter selects.
func (s *Store) ListTokens(ctx context.Context, f storage.TokenFilter) ([]storage.Token, error) {
	where, args, err := tokenWhere(f)
	if err != nil {
		return nil, err
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	if !storableKeys(args) {
		return nil, nil
	}
	return tokens.list(ctx, s.pool, "SELECT data, consumed FROM tokens WHERE "+where, args...)
}
