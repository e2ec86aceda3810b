package postgres

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsubasa/storage"
)

// findCodeFreshSQL is findCodeSQL with the code exchange's fresh facts
// (storage.FreshCode) in the same statement: one round trip instead of
// two. The code's row carries the keys of every revocation that could
// select its tokens and the request's member (codeRow, written when the
// code is issued with its request), so the facts are lookups by primary
// key: the newest revocation among the code's keys, whole, for the
// caller to compare with the code's CreatedAt to the nanosecond as
// tokenRevokedSQL would, and MemberByIDFresh's row, of which only the
// stamp is decoded. The keys and member come back too, for the caller to
// use the facts only when they are what the request read with the code
// gives (NULL for a code stored without its request).
//
// Each key is its own lookup (unnest, then a LATERAL subquery per key
// whose LIMIT 1, harmless on a unique key, keeps PostgreSQL from
// flattening it into a join): given t.key = ANY(c.revocation_keys) or
// the flattened join, PostgreSQL scans a table of a thousand revocations
// whole, comparing every row with every key, at four times the cost of
// the 15 probes of a code with a session, and more as the table grows.
const findCodeFreshSQL = `SELECT c.data, c.consumed, r.data, c.revocation_keys, c.member_id,
v.revoked_at, v.revoked_ns, m.id IS NOT NULL, m.data->>'SecurityStamp'
FROM auth_codes c LEFT JOIN auth_requests r ON r.id = c.auth_request_id
LEFT JOIN LATERAL (SELECT t.revoked_at, t.revoked_ns FROM unnest(c.revocation_keys) k(key),
LATERAL (SELECT revoked_at, revoked_ns FROM token_revocations WHERE token_revocations.key = k.key LIMIT 1) t
ORDER BY t.revoked_at DESC, t.revoked_ns DESC LIMIT 1) v ON true
LEFT JOIN members m ON m.id = c.member_id
WHERE c.hash = $1`

// codeFreshRow is findCodeFreshSQL's row.
type codeFreshRow struct {
	cdata, rdata []byte
	consumed     bool
	keys         [][]byte
	memberID     *string
	revokedAt    *time.Time
	revokedNS    *int16
	memberFound  bool
	stamp        *string
}

// PeekAuthCodeFresh is PeekAuthCode with the code exchange's fresh facts
// read in the same statement (storage.FreshCode). A code stored without
// its request's keys, or whose request no longer gives them, is read as
// PeekAuthCode reads it, with the facts left to the caller; so is one
// whose member's record PostgreSQL cannot take the stamp out of (a NUL
// in the JSON, which its text refuses).
func (s *Store) PeekAuthCodeFresh(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, storage.CodeFacts, error) {
	if err := s.live(ctx); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, storage.CodeFacts{}, err
	}
	if !storable(hash) {
		return storage.AuthCode{}, storage.AuthRequest{}, storage.CodeFacts{}, notFound("auth code")
	}
	var w codeFreshRow
	err := s.pool.QueryRow(ctx, findCodeFreshSQL, hash).Scan(&w.cdata, &w.consumed, &w.rdata,
		&w.keys, &w.memberID, &w.revokedAt, &w.revokedNS, &w.memberFound, &w.stamp)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "22P05":
		// A NUL escape in the member's JSON, which ->> cannot turn into text.
		c, r, err := findCode(ctx, s.pool, hash, now)
		return c, r, storage.CodeFacts{}, err
	case errors.Is(err, pgx.ErrNoRows):
		return storage.AuthCode{}, storage.AuthRequest{}, storage.CodeFacts{}, notFound("auth code")
	case err != nil:
		return storage.AuthCode{}, storage.AuthRequest{}, storage.CodeFacts{}, wrap("auth code", err)
	}
	c, r, rerr, err := decodeCode(w.cdata, w.consumed, w.rdata)
	c, r, err = judgeCode(c, r, rerr, err, now)
	if err != nil {
		return c, r, storage.CodeFacts{}, err
	}
	return c, r, w.facts(c, r), nil
}

// facts are the row's facts about c and r, or none (Read false) unless
// the keys and member stored with the code are exactly those of r as
// read with it: the keys candidateKeys gives for the code's token, in
// its order, and r's MemberID. A code stored without them (NULL), or a
// request changed since its code was issued, is left to the separate
// fresh reads.
func (w *codeFreshRow) facts(c storage.AuthCode, r storage.AuthRequest) storage.CodeFacts {
	tok := storage.CodeToken(c, r)
	if w.keys == nil || !slices.EqualFunc(w.keys, candidateKeys(&tok), bytes.Equal) || w.memberID == nil || *w.memberID != r.MemberID {
		return storage.CodeFacts{}
	}
	f := storage.CodeFacts{Read: true, MemberFound: w.memberFound}
	if w.revokedAt != nil && w.revokedNS != nil {
		at := w.revokedAt.Add(time.Duration(*w.revokedNS))
		f.Revoked = !at.Before(c.CreatedAt) // made at or after the code: tokenRevokedSQL's rule
	}
	if w.memberFound && w.stamp != nil {
		f.SecurityStamp = *w.stamp
	}
	return f
}
