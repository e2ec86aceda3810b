package postgres

import (
	"context"

	"tsubasa/storage"
)

// The members' contacts are read from the record's JSON. No index serves
// these lookups yet: they scan the members table, which the back office's
// occasional lookup can afford for now. Expression indexes on
// (data->>'Email') are not the way: computing them parses every record,
// and PostgreSQL refuses one holding a NUL in a name, which the store
// keeps (TestTextPostgreSQLCannotHold). Contacts need columns of their own.
const (
	membersByEmailSQL = `SELECT data FROM members WHERE data->>'Email' = $1 LIMIT $2`
	membersByPhoneSQL = `SELECT data FROM members WHERE data->>'Phone' = $1 LIMIT $2`
)

// MembersByEmail returns up to limit members whose Email is email.
func (s *Store) MembersByEmail(ctx context.Context, email string, limit int) ([]storage.Member, error) {
	return s.membersByContact(ctx, membersByEmailSQL, email, limit)
}

// MembersByPhone returns up to limit members whose Phone is phone.
func (s *Store) MembersByPhone(ctx context.Context, phone string, limit int) ([]storage.Member, error) {
	return s.membersByContact(ctx, membersByPhoneSQL, phone, limit)
}

func (s *Store) membersByContact(ctx context.Context, sql, value string, limit int) ([]storage.Member, error) {
	if value == "" || limit <= 0 || !storable(value) {
		return nil, nil
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	return members.list(ctx, s.pool, sql, value, limit)
}
