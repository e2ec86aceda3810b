package postgres

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// Revocations of tokens that are not stored.
//
// Access tokens are self-contained and never written, so deleting records
// cannot revoke them. DeleteTokens (and ChangeCredentials) therefore also
// write, in the same transaction, a revocation: the canonical key of the
// filter, its shape (which fields it sets) and when. TokenRevoked reports
// whether a token, decoded by the caller, is selected by a revocation made
// at or after its CreatedAt.
//
// TokenRevoked is on every userinfo, introspection and bearer check, so it
// answers from memory: every process keeps all revocations (one per
// revoking call within RevokeFor) in a map by key. Its own revocations go
// in once they commit; the others' arrive by notification (feed.go), and
// the whole table is read again whenever the listener (re)connects. While
// the feed cannot show it is fresh (no ping back within
// Options.RevocationDelay), TokenRevoked asks the database instead, so a
// revocation made anywhere is enforced here within that bound.

// The filter fields in key order; a shape is the bit set (bit i for field
// i) of the fields a filter uses.
func filterFields(f storage.TokenFilter) [6]string {
	return [6]string{f.ID, f.FamilyID, f.AuthRequestID, f.SessionID, f.MemberID, f.ClientID}
}

func tokenFields(t *storage.Token) [6]string {
	return [6]string{t.ID, t.FamilyID, t.AuthRequestID, t.SessionID, t.MemberID, t.ClientID}
}

func shapeOf(values [6]string) uint8 {
	var shape uint8
	for i, v := range values {
		if v != "" {
			shape |= 1 << i
		}
	}
	return shape
}

// revocationKey is the canonical key of the fields of shape taken from
// values: for each, its index and its length-prefixed value, so that no
// value (whatever bytes it holds) can run into the next.
func revocationKey(shape uint8, values [6]string) string {
	var b []byte
	for i, v := range values {
		if shape&(1<<i) != 0 {
			b = append(b, byte(i))
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	return string(b)
}

// candidateKeys are the keys of every revocation that could select t: one
// per combination of its non-empty fields.
func candidateKeys(t *storage.Token) [][]byte {
	values := tokenFields(t)
	all := shapeOf(values)
	var keys [][]byte
	for shape := uint8(1); shape < 1<<6; shape++ {
		if shape&all == shape {
			keys = append(keys, []byte(revocationKey(shape, values)))
		}
	}
	return keys
}

type revocation struct {
	shape uint8
	at    time.Time
}

type revocations struct {
	keep time.Duration

	mu     sync.RWMutex
	at     map[string]revocation // key → latest revocation
	shapes map[uint8]int         // shape → how many keys have it
}

func newRevocations(keep time.Duration) *revocations {
	return &revocations{keep: keep, at: map[string]revocation{}, shapes: map[uint8]int{}}
}

// remember records a revocation of key at at, keeping the latest.
func (r *revocations) remember(key string, shape uint8, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.at[key]
	if !ok {
		r.shapes[shape]++
	}
	if !ok || at.After(old.at) {
		r.at[key] = revocation{shape: shape, at: at}
	}
}

// prune forgets the revocations that expired by now: the janitor of any
// process deleted (or will delete) their rows, and no token they cover can
// still be valid.
func (r *revocations) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, rev := range r.at {
		if !now.Before(rev.at.Add(r.keep)) {
			delete(r.at, key)
			if r.shapes[rev.shape]--; r.shapes[rev.shape] <= 0 {
				delete(r.shapes, rev.shape)
			}
		}
	}
}

// revoked reports whether a remembered revocation made at or after
// t.CreatedAt selects t.
func (r *revocations) revoked(t *storage.Token) bool {
	values := tokenFields(t)
	all := shapeOf(values)
	r.mu.RLock()
	defer r.mu.RUnlock()
	for shape := range r.shapes {
		if shape&all != shape {
			continue // a field of the shape is empty in t: cannot match
		}
		if rev, ok := r.at[revocationKey(shape, values)]; ok && !t.CreatedAt.After(rev.at) {
			return true
		}
	}
	return false
}

const (
	// putRevocationSQL keeps the latest revocation of a filter.
	putRevocationSQL = `INSERT INTO token_revocations (key, shape, revoked_at, revoked_ns, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key) DO UPDATE SET (revoked_at, revoked_ns, expires_at) = (EXCLUDED.revoked_at, EXCLUDED.revoked_ns, EXCLUDED.expires_at)
WHERE (token_revocations.revoked_at, token_revocations.revoked_ns) < (EXCLUDED.revoked_at, EXCLUDED.revoked_ns)`
	loadRevocationsSQL = "SELECT key, shape, revoked_at, revoked_ns FROM token_revocations"
	// tokenRevokedSQL is TokenRevoked without the memory: a revocation of
	// any candidate key made at or after the token's creation.
	tokenRevokedSQL = `SELECT EXISTS (SELECT 1 FROM token_revocations WHERE key = ANY($1)
AND (revoked_at, revoked_ns) >= ($2, $3))`
	deleteRevocationsSQL = "DELETE FROM token_revocations WHERE expires_at <= $1"
)

// putRevocation writes the revocation of f at now in tx, notifies the
// other processes, and returns what to remember once tx commits.
func (s *Store) putRevocation(ctx context.Context, tx pgx.Tx, f storage.TokenFilter, now time.Time) (func(), error) {
	values := filterFields(f)
	shape := shapeOf(values)
	key := revocationKey(shape, values)
	if _, err := tx.Exec(ctx, putRevocationSQL, []byte(key), int16(shape), now, ns(now), now.Add(s.opts.RevokeFor)); err != nil {
		return nil, wrap("token revocation", err)
	}
	if err := notify(ctx, tx, revocationPayload(key, shape, now)); err != nil {
		return nil, wrap("token revocation", err)
	}
	return func() { s.revoked.remember(key, shape, now) }, nil
}

// revocationPayload is "r<shape> <unix nanoseconds> <hex key>", or "R"
// (read them all again) for a key too long for a notification.
func revocationPayload(key string, shape uint8, at time.Time) string {
	if len(key) > 3500 {
		return "R"
	}
	return fmt.Sprintf("r%d %d %s", shape, at.UnixNano(), hex.EncodeToString([]byte(key)))
}

func parseRevocationPayload(p string) (key string, shape uint8, at time.Time, ok bool) {
	parts := strings.Fields(strings.TrimPrefix(p, "r"))
	if len(parts) != 3 {
		return "", 0, time.Time{}, false
	}
	sh, err1 := strconv.ParseUint(parts[0], 10, 8)
	nanos, err2 := strconv.ParseInt(parts[1], 10, 64)
	k, err3 := hex.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", 0, time.Time{}, false
	}
	return string(k), uint8(sh), time.Unix(0, nanos).UTC(), true
}

// loadRevocations reads every stored revocation into memory.
func (s *Store) loadRevocations(ctx context.Context, q querier) error {
	rows, err := q.Query(ctx, loadRevocationsSQL)
	if err != nil {
		return wrap("load token revocations", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key   []byte
			shape int16
			at    time.Time
			n     int16
		)
		if err := rows.Scan(&key, &shape, &at, &n); err != nil {
			return wrap("load token revocations", err)
		}
		s.revoked.remember(string(key), uint8(shape), at.UTC().Add(time.Duration(n)))
	}
	return wrap("load token revocations", rows.Err())
}

// TokenRevoked reports whether a DeleteTokens call made at or after
// t.CreatedAt selects t; see storage.Tokens and the comment above.
func (s *Store) TokenRevoked(ctx context.Context, t storage.Token) (bool, error) {
	if err := s.live(ctx); err != nil {
		return false, err
	}
	if s.feed.fresh() {
		return s.revoked.revoked(&t), nil
	}
	return s.tokenRevokedInDB(ctx, t)
}

// TokenRevokedFresh is TokenRevoked from the database, whatever the
// memory holds (storage.Fresh): for the code exchange, whose tokens
// outlive the memory's bound.
func (s *Store) TokenRevokedFresh(ctx context.Context, t storage.Token) (bool, error) {
	if err := s.live(ctx); err != nil {
		return false, err
	}
	return s.tokenRevokedInDB(ctx, t)
}

func (s *Store) tokenRevokedInDB(ctx context.Context, t storage.Token) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx, tokenRevokedSQL, candidateKeys(&t), t.CreatedAt, ns(t.CreatedAt)).Scan(&revoked)
	if err != nil {
		// The caller refuses the token: no answer is not "not revoked".
		return false, wrap("token revoked", err)
	}
	return revoked, nil
}

// deleteExpiredRevocations is the janitor's part for revocations.
func (s *Store) deleteExpiredRevocations(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, deleteRevocationsSQL, now)
	if err != nil {
		return 0, wrap("delete expired token revocations", err)
	}
	s.revoked.prune(now)
	return int(tag.RowsAffected()), nil
}
