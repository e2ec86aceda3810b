package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// Pushed authorization requests (RFC 9126) and used client-assertion
// jtis: both single use, each one statement, so that of concurrent uses on
// any number of replicas exactly one gets through; both kept until they
// expire, when the janitor takes them.

var pushedRequests = newTable(table[storage.PushedRequest]{
	kind:  "pushed request",
	key:   []string{"id"},
	keyOf: func(r *storage.PushedRequest) []any { return []any{r.ID} },
	cols:  []string{"client_id", "consumed", "expires_at", "expires_ns"},
	colsOf: func(r *storage.PushedRequest) []any {
		return []any{r.ClientID, r.Consumed, r.ExpiresAt, ns(r.ExpiresAt)}
	},
	// The key is the HMAC of a request_uri: keep it out of error messages.
	label:    func([]any) string { return "pushed request" },
	consumed: func(r *storage.PushedRequest) *bool { return &r.Consumed },
}, "pushed_requests")

const (
	// claimPushedSQL claims the client's unexpired, unconsumed request in
	// one statement.
	claimPushedSQL = `UPDATE pushed_requests SET consumed = true
WHERE id = $1 AND client_id = $2 AND NOT consumed AND (expires_at, expires_ns) > ($3, $4)
RETURNING data`
	// pushedStateSQL tells a lost claim's cause: consumed, or not this
	// client's (or unknown, or expired).
	pushedStateSQL = `SELECT consumed FROM pushed_requests
WHERE id = $1 AND client_id = $2 AND (expires_at, expires_ns) > ($3, $4)`
	// useJTISQL records a jti unless an unexpired record of it exists:
	// an expired one is replaced. Of concurrent uses one inserts (or
	// replaces) and the others, waiting on its row lock, find it live.
	useJTISQL = `INSERT INTO used_jtis (key, expires_at, expires_ns) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at, expires_ns = EXCLUDED.expires_ns
WHERE (used_jtis.expires_at, used_jtis.expires_ns) <= ($4, $5)`
	// jtiUsedSQL tells whether a live record of a jti exists.
	jtiUsedSQL = `SELECT EXISTS (SELECT 1 FROM used_jtis WHERE key = $1 AND (expires_at, expires_ns) > ($2, $3))`
)

// CreatePushedRequest stores a new pushed request.
func (s *Store) CreatePushedRequest(ctx context.Context, r storage.PushedRequest) error {
	return createOne(ctx, s, pushedRequests, r)
}

// ClaimPushedRequest marks clientID's request id consumed and returns it;
// see storage.PushedRequests.
func (s *Store) ClaimPushedRequest(ctx context.Context, id, clientID string, now time.Time) (storage.PushedRequest, error) {
	var out storage.PushedRequest
	if !storableKeys([]any{id, clientID}) {
		return out, notFound("pushed request")
	}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = storage.PushedRequest{}
		var data []byte
		err := tx.QueryRow(ctx, claimPushedSQL, id, clientID, now, ns(now)).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			var consumed bool
			serr := tx.QueryRow(ctx, pushedStateSQL, id, clientID, now, ns(now)).Scan(&consumed)
			switch {
			case errors.Is(serr, pgx.ErrNoRows):
				return notFound("pushed request")
			case serr != nil:
				return wrap("pushed request", serr)
			case consumed:
				return fmt.Errorf("postgres: pushed request: %w", storage.ErrConsumed)
			}
			return fmt.Errorf("postgres: pushed request: not claimed for no known reason")
		}
		if err != nil {
			return wrap("claim pushed request", err)
		}
		if err := decode(data, &out); err != nil {
			return wrap("claim pushed request", err)
		}
		out.Consumed = true
		return nil
	})
	if err != nil {
		return storage.PushedRequest{}, err
	}
	return out, nil
}

// JTIUsed reports whether key is recorded and not expired at now.
func (s *Store) JTIUsed(ctx context.Context, key string, now time.Time) (bool, error) {
	if !storableKeys([]any{key}) {
		return false, nil
	}
	if err := s.live(ctx); err != nil {
		return false, err
	}
	var used bool
	if err := s.pool.QueryRow(ctx, jtiUsedSQL, key, now, ns(now)).Scan(&used); err != nil {
		return false, wrap("jti used", err)
	}
	return used, nil
}

// UseJTI records j unless its key is recorded and not expired at now; see
// storage.JTIs.
func (s *Store) UseJTI(ctx context.Context, j storage.UsedJTI, now time.Time) error {
	if j.Key == "" || !storableKeys([]any{j.Key}) {
		return fmt.Errorf("postgres: used jti: the key is empty or not storable")
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, useJTISQL, j.Key, j.ExpiresAt.UTC(), ns(j.ExpiresAt), now, ns(now))
		if err != nil {
			return wrap("use jti", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: used jti: %w", storage.ErrConsumed)
		}
		return nil
	})
}
