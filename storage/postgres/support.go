package postgres

import (
	"context"

	"tsubasa/storage"
)

// Member support sessions (migrations/0004_support.sql). An update locks
// the row (SELECT … FOR UPDATE) for its transaction, so concurrent entries
// on any number of replicas are counted one after the other and exactly
// one verification wins.

var supportSessions = newTable(table[storage.SupportSession]{
	kind:   "support session",
	key:    []string{"id"},
	keyOf:  func(s *storage.SupportSession) []any { return []any{s.ID} },
	cols:   []string{"expires_ns"},
	colsOf: func(s *storage.SupportSession) []any { return []any{nanos(s.Until())} },
}, "support_sessions")

// CreateSupportSession stores a new session.
func (s *Store) CreateSupportSession(ctx context.Context, ss storage.SupportSession) error {
	return createOne(ctx, s, supportSessions, ss)
}

// SupportSessionByID returns a session.
func (s *Store) SupportSessionByID(ctx context.Context, id string) (storage.SupportSession, error) {
	return getOne(ctx, s, supportSessions, id)
}

// UpdateSupportSession applies fn to the session atomically.
func (s *Store) UpdateSupportSession(ctx context.Context, id string, fn func(storage.SupportSession) (storage.SupportSession, error)) error {
	return updateOne(ctx, s, supportSessions, []any{id}, fn)
}
