package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsubasa/storage"
)

// A code exchange whose caller knows the code's request already (the code
// carries it: provider/codeseal.go) has nothing to read before its claim:
// the claim, the fresh checks and the tokens are one statement, the
// exchange's only round trip (storage.AuthRequests.ClaimAuthCodeFresh).
//
// claimOneSQL's c claims the code and r deletes its request, as there;
// f makes the checks in the statement's snapshot: the newest revocation
// among the code token's candidate keys made at or after the code
// (tokenRevokedSQL's rule, from parameters: the caller's CodeCheck, not
// the columns stored with the code), and the member's stamp. The tokens
// go in only if r deleted the request and f found nothing; the code is
// claimed either way, as a code refused at its exchange is spent. The
// request gone before the statement divides by zero and rolls the claim
// back, as in claimOneSQL. Each key is its own probe of
// token_revocations' primary key (unnest, then a LATERAL subquery whose
// LIMIT 1 keeps PostgreSQL from flattening it), as in findCodeFreshSQL:
// given key = ANY($4), it scans a table of a thousand revocations whole.
// $4–$8 are the check's: the keys, the code's
// time ($5, $6), the stamp ($7, NULL for none) and the member ($8); the
// tokens start at $9.

// claimFreshSQL returns the statement for n tokens, built once per n.
func claimFreshSQL(n int) string {
	if q, ok := claimFreshSQLs.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(`WITH c AS (` + claimCodeSQL + `, auth_request_id),
r AS (DELETE FROM auth_requests WHERE id IN (SELECT auth_request_id FROM c) RETURNING id),
f AS (SELECT EXISTS (SELECT 1 FROM unnest($4::bytea[]) k(key), LATERAL (SELECT 1 FROM token_revocations t
  WHERE t.key = k.key AND (t.revoked_at, t.revoked_ns) >= ($5, $6) LIMIT 1) v) AS revoked,
($7::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members WHERE id = $8 AND data->>'SecurityStamp' = $7::text)) AS changed),
ok AS (SELECT 1 FROM r, f WHERE NOT f.revoked AND NOT f.changed)`)
	insertTokens(&b, n, "ok", 9)
	b.WriteString("\nSELECT c.data, f.revoked, f.changed, 1 / (SELECT count(*) FROM r)::int FROM c, f")
	q, _ := claimFreshSQLs.LoadOrStore(n, b.String())
	return q.(string)
}

var claimFreshSQLs sync.Map // token count → statement

// ClaimAuthCodeFresh claims a code, deletes its request and stores ts
// only if check finds nothing, in one commit (storage.AuthRequests.ClaimAuthCodeFresh): one
// statement, or, in a unit's transaction or for a member record whose
// stamp PostgreSQL cannot take out as text, the same steps in one
// transaction.
func (s *Store) ClaimAuthCodeFresh(ctx context.Context, hash string, now time.Time, check storage.CodeCheck, ts ...storage.Token) (storage.AuthCode, storage.ClaimVerdict, error) {
	if !storable(hash) {
		return storage.AuthCode{}, storage.ClaimVerdict{}, notFound("auth code")
	}
	if s.carries(ctx) {
		return s.claimFreshTx(ctx, hash, now, check, ts)
	}
	if err := s.live(ctx); err != nil {
		return storage.AuthCode{}, storage.ClaimVerdict{}, err
	}
	args, err := tokenArgs(append([]any{hash, now, ns(now)}, checkArgs(check)...), ts)
	if err != nil {
		return storage.AuthCode{}, storage.ClaimVerdict{}, err
	}
	var (
		cdata []byte
		v     storage.ClaimVerdict
		one   int
	)
	for range maxTries {
		err = s.pool.QueryRow(ctx, claimFreshSQL(len(ts)), args...).Scan(&cdata, &v.Revoked, &v.CredentialsChanged, &one)
		if !retryable(err) {
			break
		}
	}
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Lost, replayed, expired or unknown: findCode says which, and
		// hands a replay its code.
		c, _, ferr := findCode(ctx, s.pool, hash, now)
		if ferr == nil {
			ferr = errors.New("postgres: auth code: not claimed for no known reason")
		}
		return c, storage.ClaimVerdict{}, ferr
	case errors.As(err, &pe) && pe.Code == "22012":
		return storage.AuthCode{}, storage.ClaimVerdict{}, fmt.Errorf("postgres: auth code: %w", notFound("auth request of the code"))
	case errors.As(err, &pe) && pe.Code == "22P05":
		// A NUL escape in the member's JSON, which ->> cannot turn into
		// text: the statement changed nothing; the stamp is compared here.
		return s.claimFreshTx(ctx, hash, now, check, ts)
	case isUniqueViolation(err):
		return storage.AuthCode{}, storage.ClaimVerdict{}, s.takenToken(ctx, ts, err)
	case err != nil:
		return storage.AuthCode{}, storage.ClaimVerdict{}, wrap("claim auth code", err)
	}
	var c storage.AuthCode
	if err := decode(cdata, &c); err != nil {
		return storage.AuthCode{}, storage.ClaimVerdict{}, wrap("claim auth code", err)
	}
	c.Consumed = true
	return c, v, nil
}

// checkArgs are claimFreshSQL's $4–$8.
func checkArgs(check storage.CodeCheck) []any {
	return []any{candidateKeys(&check.Token), check.Token.CreatedAt, ns(check.Token.CreatedAt), null(check.MemberStamp), check.MemberID}
}

// claimFreshTx is ClaimAuthCodeFresh as a transaction: the claim, the
// request's deletion, the revocation read (tokenRevokedSQL), the member's
// read, and the tokens only if neither stops them.
func (s *Store) claimFreshTx(ctx context.Context, hash string, now time.Time, check storage.CodeCheck, ts []storage.Token) (storage.AuthCode, storage.ClaimVerdict, error) {
	var (
		code storage.AuthCode
		v    storage.ClaimVerdict
	)
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		code, v = storage.AuthCode{}, storage.ClaimVerdict{}
		var data []byte
		err := tx.QueryRow(ctx, claimCodeSQL, hash, now, ns(now)).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			var ferr error
			code, _, ferr = findCode(ctx, tx, hash, now)
			if ferr == nil {
				ferr = errors.New("postgres: auth code: not claimed for no known reason")
			}
			return ferr
		}
		if err != nil {
			return wrap("claim auth code", err)
		}
		var c storage.AuthCode
		if err := decode(data, &c); err != nil {
			return wrap("claim auth code", err)
		}
		c.Consumed = true
		var gone []byte
		if err := tx.QueryRow(ctx, takeRequestSQL, c.AuthRequestID).Scan(&gone); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("postgres: auth code: %w", notFound("auth request of the code"))
			}
			return wrap("claim auth code", err) // rolled back: the code stays unclaimed
		}
		if err := tx.QueryRow(ctx, tokenRevokedSQL, candidateKeys(&check.Token), check.Token.CreatedAt, ns(check.Token.CreatedAt)).Scan(&v.Revoked); err != nil {
			return wrap("token revoked", err)
		}
		if check.MemberStamp != "" {
			m, err := members.get(ctx, tx, check.MemberID)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				v.CredentialsChanged = true
			case err != nil:
				return err
			default:
				v.CredentialsChanged = subtle.ConstantTimeCompare([]byte(m.SecurityStamp), []byte(check.MemberStamp)) != 1
			}
		}
		if v.Minted() {
			if err := createTokens(ctx, tx, ts); err != nil {
				return err
			}
		}
		code = c
		return nil
	})
	return code, v, err
}
