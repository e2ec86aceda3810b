package postgres

import (
	"context"
	"strings"
	"unicode/utf8"

	"tsubasa/storage"
)

// The members' contacts are columns of their own, email and phone, each
// with a partial btree index (migration 8), written from the record with
// every write of a member through the members table's columns (colsOf),
// as bolt writes its contact indexes. They are not read from the JSON:
// an expression index on data->>'Email' parses every record, and
// PostgreSQL refuses one holding a NUL in a name, which the store keeps
// (TestTextPostgreSQLCannotHold); a query that read the JSON failed for
// every lookup as soon as one such member was in its way.
const (
	membersByEmailSQL = `SELECT data FROM members WHERE email = $1 LIMIT $2`
	membersByPhoneSQL = `SELECT data FROM members WHERE phone = $1 LIMIT $2`
)

// MembersByEmail returns up to limit members whose Email is email.
func (s *Store) MembersByEmail(ctx context.Context, email string, limit int) ([]storage.Member, error) {
	return s.membersByContact(ctx, membersByEmailSQL, email, limit, func(m *storage.Member) string { return m.Email })
}

// MembersByPhone returns up to limit members whose Phone is phone.
func (s *Store) MembersByPhone(ctx context.Context, phone string, limit int) ([]storage.Member, error) {
	return s.membersByContact(ctx, membersByPhoneSQL, phone, limit, func(m *storage.Member) string { return m.Phone })
}

// membersByContact keeps only the members whose record still holds value:
// a replica of a version before migration 8, still running during a
// rollout, changes a member's record without the columns, and the back
// office must never be shown a member for a contact they no longer have.
func (s *Store) membersByContact(ctx context.Context, sql, value string, limit int, field func(*storage.Member) string) ([]storage.Member, error) {
	if value == "" || limit <= 0 || !storable(value) {
		return nil, nil
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	ms, err := members.list(ctx, s.pool, sql, value, limit)
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		if field(&m) == value {
			out = append(out, m)
		}
	}
	return out, nil
}

// contactCol is a contact as its column holds it: NULL when empty, as bolt
// leaves empty values out of its indexes, or when it holds a NUL, which
// text cannot hold (a lookup by such a value finds nothing); otherwise the
// value the record reads back, which encoding/json writes with each byte
// of invalid UTF-8 replaced by U+FFFD.
func contactCol(s string) *string {
	if s == "" || strings.ContainsRune(s, 0) {
		return nil
	}
	if utf8.ValidString(s) {
		return &s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	v := b.String()
	return &v
}
