package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var tokens = (&table[storage.Token]{
	kind:   "token",
	bucket: bTokens,
	pk:     func(t *storage.Token) []byte { return []byte(t.ID) },
	// Keep the order of tokenIndexes.
	indexes: []index[storage.Token]{
		multi("family", bTokensByFamily, func(t *storage.Token) string { return t.FamilyID }),
		multi("auth request", bTokensByAuthReq, func(t *storage.Token) string { return t.AuthRequestID }),
		multi("session", bTokensBySession, func(t *storage.Token) string { return t.SessionID }),
		multi("member", bTokensByMember, func(t *storage.Token) string { return t.MemberID }),
		multi("client", bTokensByClient, func(t *storage.Token) string { return t.ClientID }),
	},
}).withExpiry(bTokensByExpiry, func(t *storage.Token) (time.Time, bool) { return t.ExpiresAt, true })

// filterIndex picks the most selective index the filter allows and returns
// it with the prefix to scan.
// A filter by ID alone has no index: the callers read the record by key.
func filterIndex(f storage.TokenFilter) (*index[storage.Token], []byte, error) {
	// Same order as tokens.indexes: narrowest first.
	for i, v := range []string{f.FamilyID, f.AuthRequestID, f.SessionID, f.MemberID, f.ClientID} {
		if v != "" {
			return &tokens.indexes[i], iprefix(v), nil
		}
	}
	return nil, nil, errors.New("bolt: token filter: at least one field must be set")
}

func matches(f storage.TokenFilter, t *storage.Token) bool {
	return (f.ID == "" || f.ID == t.ID) &&
		(f.MemberID == "" || f.MemberID == t.MemberID) &&
		(f.ClientID == "" || f.ClientID == t.ClientID) &&
		(f.SessionID == "" || f.SessionID == t.SessionID) &&
		(f.FamilyID == "" || f.FamilyID == t.FamilyID) &&
		(f.AuthRequestID == "" || f.AuthRequestID == t.AuthRequestID)
}

// checkNewTokens reports whether every token of ts can be created: keys
// free, and no key twice in ts.
func checkNewTokens(tx *bbolt.Tx, ts []storage.Token) error {
	seen := make(map[string]bool, len(ts))
	for i := range ts {
		if seen[ts[i].ID] {
			return fmt.Errorf("bolt: token %q twice in one call: %w", ts[i].ID, storage.ErrAlreadyExists)
		}
		seen[ts[i].ID] = true
		if err := tokens.check(tx, true, &ts[i]); err != nil {
			return err
		}
	}
	return nil
}

// CreateTokens stores all of ts or none.
func (s *Store) CreateTokens(ctx context.Context, ts ...storage.Token) error {
	if len(ts) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *bbolt.Tx) error {
		if err := checkNewTokens(tx, ts); err != nil {
			return abort(err)
		}
		for i := range ts {
			t := ts[i]
			if err := tokens.put(tx, nil, &t); err != nil {
				return err
			}
		}
		return nil
	})
}

// TokenByID returns the token, consumed refresh tokens included.
func (s *Store) TokenByID(ctx context.Context, id string) (storage.Token, error) {
	return getOne(ctx, s, tokens, []byte(id))
}

// RotateRefreshToken replaces oldID by its tombstone and stores next; see
// storage.Tokens. The returned token is the tombstone.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, now time.Time, next ...storage.Token) (storage.Token, error) {
	var out storage.Token
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = storage.Token{}
		old, err := tokens.get(tx, []byte(oldID))
		if err != nil {
			return abort(err)
		}
		if old.Kind != storage.RefreshToken {
			return abort(fmt.Errorf("bolt: token %q is not a refresh token: %w", oldID, storage.ErrNotFound))
		}
		if old.Expired(now) {
			return abort(fmt.Errorf("bolt: refresh token %q expired: %w", oldID, storage.ErrNotFound))
		}
		if old.Consumed {
			out = old
			return abort(fmt.Errorf("bolt: refresh token %q of family %q: %w", oldID, old.FamilyID, storage.ErrConsumed))
		}
		if err := checkNewTokens(tx, next); err != nil {
			return abort(err)
		}
		// put moves the index entries: the member's, the session's
		// and the request's go.
		tomb := old.Tombstone()
		if err := tokens.put(tx, tokens.keys(&old), &tomb); err != nil {
			return err
		}
		for i := range next {
			t := next[i]
			if err := tokens.put(tx, nil, &t); err != nil {
				return err
			}
		}
		out = tomb
		return nil
	})
	return out, err
}

// DeleteToken deletes one token.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	return deleteOne(ctx, s, tokens, []byte(id))
}

// DeleteTokens deletes every token the filter selects, with one index
// prefix scan.
//
// It also records the revocation for tokens that are not stored (see
// revocations.go), so a filter that selects no stored token still counts.
func (s *Store) DeleteTokens(ctx context.Context, f storage.TokenFilter) (int, error) {
	ix, prefix, err := filterIndex(f)
	if err != nil && f.ID == "" {
		return 0, err
	}
	var (
		n   int
		key string
	)
	now := s.now().UTC()
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		var err error
		key, n, err = s.revokeTokens(tx, f, ix, prefix, now)
		return err
	})
	if err == nil {
		s.revoked.remember(key, now)
	}
	return n, err
}

// revokeTokens records the revocation of what f covers at now and deletes
// the stored tokens it selects, in tx, returning the revocation's key (for
// remember, once tx commits) and how many tokens it deleted.
func (s *Store) revokeTokens(tx *bbolt.Tx, f storage.TokenFilter, ix *index[storage.Token], prefix []byte, now time.Time) (string, int, error) {
	key, err := s.revoked.put(tx, f, now)
	if err != nil {
		return "", 0, err
	}
	ts, err := selectTokens(tx, f, ix, prefix)
	if err != nil {
		return "", 0, err
	}
	n := 0
	for i := range ts {
		if !matches(f, &ts[i]) {
			continue
		}
		if err := tokens.del(tx, &ts[i]); err != nil {
			return "", 0, err
		}
		n++
	}
	return key, n, nil
}

// selectTokens returns the candidates for f (to be narrowed by matches): the
// record with f.ID, or those under the index filterIndex chose.
func selectTokens(tx *bbolt.Tx, f storage.TokenFilter, ix *index[storage.Token], prefix []byte) ([]storage.Token, error) {
	if f.ID == "" {
		return tokens.byIndex(tx, ix, prefix)
	}
	t, err := tokens.get(tx, []byte(f.ID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []storage.Token{t}, nil
}

// ListTokens returns every token the filter selects.
func (s *Store) ListTokens(ctx context.Context, f storage.TokenFilter) ([]storage.Token, error) {
	ix, prefix, err := filterIndex(f)
	if err != nil && f.ID == "" {
		return nil, err
	}
	var out []storage.Token
	err = s.read(ctx, func(tx *bbolt.Tx) error {
		ts, err := selectTokens(tx, f, ix, prefix)
		if err != nil {
			return err
		}
		out = ts[:0]
		for _, t := range ts {
			if matches(f, &t) {
				out = append(out, t)
			}
		}
		return nil
	})
	return out, err
}
