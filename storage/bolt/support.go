package bolt

import (
	"context"
	"time"

	"tsubasa/storage"
)

// Member support sessions (storage.SupportSessions), kept until the later
// of their code's expiry and their verified window, when the janitor takes
// them. Their buckets are late ones (schema.go). One update at a time
// (bbolt's single writer) makes each attempt's count and the single
// verification exact.

var supportSessions = (&table[storage.SupportSession]{
	kind:   "support session",
	bucket: bSupport,
	pk:     func(s *storage.SupportSession) []byte { return []byte(s.ID) },
}).withExpiry(bSupportExp, func(s *storage.SupportSession) (time.Time, bool) { return s.Until(), true })

// CreateSupportSession stores a new session.
func (s *Store) CreateSupportSession(ctx context.Context, ss storage.SupportSession) error {
	return createOne(ctx, s, supportSessions, ss)
}

// SupportSessionByID returns a session.
func (s *Store) SupportSessionByID(ctx context.Context, id string) (storage.SupportSession, error) {
	return getOne(ctx, s, supportSessions, []byte(id))
}

// UpdateSupportSession applies fn to the session atomically.
func (s *Store) UpdateSupportSession(ctx context.Context, id string, fn func(storage.SupportSession) (storage.SupportSession, error)) error {
	return updateOne(ctx, s, supportSessions, []byte(id), fn)
}
