package postgres

import (
	"context"
	"errors"
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
	return perTokenCount(&claimFreshSQLs, n, func(b *strings.Builder) {
		b.WriteString(claimAndTakeCTEs + `,
f AS (SELECT EXISTS (SELECT 1 FROM unnest($4::bytea[]) k(key), LATERAL (SELECT 1 FROM token_revocations t
  WHERE t.key = k.key AND (t.revoked_at, t.revoked_ns) >= ($5, $6) LIMIT 1) v) AS revoked,
($7::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members WHERE id = $8 AND data->>'SecurityStamp' = $7::text)) AS changed),
ok AS (SELECT 1 FROM r, f WHERE NOT f.revoked AND NOT f.changed)`)
		insertTokens(b, n, "ok", 9)
		b.WriteString("\nSELECT c.data, f.revoked, f.changed, 1 / (SELECT count(*) FROM r)::int FROM c, f")
	})
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
	err = s.queryRowRetried(ctx, claimFreshSQL(len(ts)), args, &cdata, &v.Revoked, &v.CredentialsChanged, &one)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "22P05":
		// A NUL escape in the member's JSON, which ->> cannot turn into
		// text: the statement changed nothing; the stamp is compared here.
		return s.claimFreshTx(ctx, hash, now, check, ts)
	case err != nil:
		c, _, err := s.claimFailed(ctx, hash, now, ts, err)
		return c, storage.ClaimVerdict{}, err
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

// claimFreshTx is ClaimAuthCodeFresh as a transaction: the claim and the
// request's deletion (claimInTx), the revocation read (tokenRevokedSQL),
// the member's read, and the tokens only if neither stops them.
func (s *Store) claimFreshTx(ctx context.Context, hash string, now time.Time, check storage.CodeCheck, ts []storage.Token) (storage.AuthCode, storage.ClaimVerdict, error) {
	var (
		code storage.AuthCode
		v    storage.ClaimVerdict
	)
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		v = storage.ClaimVerdict{}
		c, _, err := claimInTx(ctx, tx, hash, now)
		code = c // a replay returns its code
		if err != nil {
			return err
		}
		code = storage.AuthCode{}
		if err := tx.QueryRow(ctx, tokenRevokedSQL, candidateKeys(&check.Token), check.Token.CreatedAt, ns(check.Token.CreatedAt)).Scan(&v.Revoked); err != nil {
			return wrap("token revoked", err)
		}
		if check.MemberStamp != "" {
			m, err := members.get(ctx, tx, check.MemberID)
			if v.CredentialsChanged, err = check.StampChanged(m, err); err != nil {
				return err
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
