package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsubasa/storage"
)

// findCodeFreshSQL is findCodeSQL with the code exchange's fresh facts
// (storage.FreshCode) in the same statement: one round trip instead of
// two, since the revocation keys come from the request's fields, which
// are known only once its row is read.
//
// f is the code with its request and the request's fields that a
// revocation can select (storage.CodeToken: the request's id, SessionID,
// MemberID and ClientID; a code's token has no ID or FamilyID). parts is
// each non-empty field as revocationKey encodes it: its index, its length
// as a uvarint and its bytes; lengths of 16,384 bytes and more have no
// encoding here (NULL), and the caller then reads the facts itself. keys
// are candidateKeys: one per non-empty subset of the fields present
// (mask over the field bits, kept when every bit of it has a part), the
// parts in field order. The newest revocation of any key comes back
// whole, for the caller to compare with the code's CreatedAt to the
// nanosecond, as tokenRevokedSQL would. The member is MemberByIDFresh's
// row, by its key column; only its stamp is decoded.
//
// The fields are returned as SQL decoded them from the JSON, so that the
// caller uses the facts only when they equal the request's fields as Go
// decoded them.
const findCodeFreshSQL = `WITH f AS (
SELECT c.data AS cdata, c.consumed, r.data AS rdata, r.id AS rid,
r.data->>'SessionID' AS sid, r.data->>'MemberID' AS mid, r.data->>'ClientID' AS cid
FROM auth_codes c LEFT JOIN auth_requests r ON r.id = c.auth_request_id WHERE c.hash = $1
), parts AS (
SELECT p.i, set_byte('\x00'::bytea, 0, p.i) || CASE
WHEN octet_length(p.v) < 128 THEN set_byte('\x00'::bytea, 0, octet_length(p.v))
WHEN octet_length(p.v) < 16384 THEN set_byte(set_byte('\x0000'::bytea, 0, (octet_length(p.v) & 127) | 128), 1, octet_length(p.v) >> 7)
END || convert_to(p.v, 'UTF8') AS e
FROM f, LATERAL (VALUES (2, f.rid), (3, f.sid), (4, f.mid), (5, f.cid)) AS p(i, v) WHERE p.v <> ''
), keys AS (
SELECT string_agg(parts.e, ''::bytea ORDER BY parts.i) AS key FROM generate_series(1, 63) AS s(mask)
JOIN parts ON s.mask & (1 << parts.i) <> 0 GROUP BY s.mask HAVING bit_or(1 << parts.i) = s.mask
)
SELECT f.cdata, f.consumed, f.rdata, f.rid, f.sid, f.mid, f.cid,
(SELECT bool_and(parts.e IS NOT NULL) FROM parts), v.revoked_at, v.revoked_ns,
m.id IS NOT NULL, m.data->>'SecurityStamp'
FROM f
LEFT JOIN LATERAL (SELECT t.revoked_at, t.revoked_ns FROM token_revocations t WHERE t.key IN (SELECT key FROM keys)
ORDER BY t.revoked_at DESC, t.revoked_ns DESC LIMIT 1) v ON true
LEFT JOIN members m ON m.id = f.mid`

// codeFreshRow is findCodeFreshSQL's row.
type codeFreshRow struct {
	cdata, rdata       []byte
	consumed           bool
	rid, sid, mid, cid *string
	encoded            *bool
	revokedAt          *time.Time
	revokedNS          *int16
	memberFound        bool
	stamp              *string
}

// PeekAuthCodeFresh is PeekAuthCode with the code exchange's fresh facts
// read in the same statement (storage.FreshCode). A request whose
// fields SQL cannot take apart as Go does (a NUL in the JSON, which
// PostgreSQL's text refuses, or a field of 16 KB) is read as PeekAuthCode
// reads it, with the facts left to the caller.
func (s *Store) PeekAuthCodeFresh(ctx context.Context, hash string, now time.Time) (storage.AuthCode, storage.AuthRequest, storage.CodeFacts, error) {
	if err := s.live(ctx); err != nil {
		return storage.AuthCode{}, storage.AuthRequest{}, storage.CodeFacts{}, err
	}
	if !storable(hash) {
		return storage.AuthCode{}, storage.AuthRequest{}, storage.CodeFacts{}, notFound("auth code")
	}
	var w codeFreshRow
	err := s.pool.QueryRow(ctx, findCodeFreshSQL, hash).Scan(&w.cdata, &w.consumed, &w.rdata,
		&w.rid, &w.sid, &w.mid, &w.cid, &w.encoded, &w.revokedAt, &w.revokedNS, &w.memberFound, &w.stamp)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "22P05":
		// A NUL escape in a record's JSON, which ->> cannot turn into text.
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
// SQL took the request's fields apart exactly as Go did and encoded
// every one.
func (w *codeFreshRow) facts(c storage.AuthCode, r storage.AuthRequest) storage.CodeFacts {
	same := func(sql *string, v string) bool { return sql != nil && *sql == v }
	if !same(w.rid, r.ID) || !same(w.sid, r.SessionID) || !same(w.mid, r.MemberID) || !same(w.cid, r.ClientID) ||
		w.encoded == nil || !*w.encoded {
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
