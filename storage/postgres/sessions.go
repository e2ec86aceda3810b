package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

var sessions = newTable(table[storage.Session]{
	kind:  "session",
	key:   []string{"id"},
	keyOf: func(s *storage.Session) []any { return []any{s.ID} },
	cols:  []string{"member_id", "device_id", "expires_at", "expires_ns"},
	colsOf: func(s *storage.Session) []any {
		return []any{null(s.MemberID), null(s.DeviceID), s.ExpiresAt, ns(s.ExpiresAt)}
	},
}, "sessions")

var errSessionFilter = errors.New("postgres: session filter: MemberID is required")

// sessionWhere is the condition of a filter, on sessions_by_member_device.
func sessionWhere(f storage.SessionFilter) (string, []any) {
	if f.DeviceID == "" {
		return "member_id = $1", []any{f.MemberID}
	}
	return "member_id = $1 AND device_id = $2", []any{f.MemberID, f.DeviceID}
}

// CreateSession stores a new session. A unit holds it (see
// storage.Units).
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	return s.hold(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return sessions.create(ctx, tx, &sess)
	})
}

// SessionByID returns the session, even when expired.
func (s *Store) SessionByID(ctx context.Context, id string) (storage.Session, error) {
	return getOne(ctx, s, sessions, id)
}

var _ storage.CachedSessions = (*Store)(nil)

// SessionByIDCached is SessionByID from the session cache while the feed
// is fresh (see recordCache): a session another process ended, or gave
// another member, device or lifetime, is gone from it within
// Options.RevocationDelay, one this process ended at once. Other changes
// of the record (its flow state, clients, last use, a step-up) may be
// missing from the copy for as long: see storage.CachedSessions.
func (s *Store) SessionByIDCached(ctx context.Context, id string) (storage.Session, error) {
	return cachedGet(ctx, s, s.sessCache, id, func() (storage.Session, error) { return getOne(ctx, s, sessions, id) })
}

// UpdateSession applies fn to the session.
func (s *Store) UpdateSession(ctx context.Context, id string, fn func(storage.Session) (storage.Session, error)) error {
	defer s.sessCache.changed(id) // after the commit: this process reads what it wrote
	return updateOne(ctx, s, sessions, []any{id}, fn)
}

// DeleteSession deletes one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	defer s.sessCache.changed(id) // after the commit
	return deleteOne(ctx, s, sessions, id)
}

// memberSessionsEnded drops the member's sessions (of one device, when
// deviceID is set) from this process's session cache, after a write that
// deleted them by member: the other processes hear of it from the
// trigger of migration 11.
func (s *Store) memberSessionsEnded(memberID, deviceID string) {
	s.sessCache.dropWhere(func(x storage.Session) bool {
		return x.MemberID == memberID && (deviceID == "" || x.DeviceID == deviceID)
	})
}

// ListSessions returns the member's sessions, narrowed to a device when the
// filter names one.
func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	if f.MemberID == "" {
		return nil, errSessionFilter
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	if !storable(f.MemberID) || !storable(f.DeviceID) {
		return nil, nil
	}
	where, args := sessionWhere(f)
	return sessions.list(ctx, s.pool, "SELECT data FROM sessions WHERE "+where, args...)
}

// DeleteSessions deletes the sessions ListSessions would return.
func (s *Store) DeleteSessions(ctx context.Context, f storage.SessionFilter) (int, error) {
	if f.MemberID == "" {
		return 0, errSessionFilter
	}
	if !storable(f.MemberID) || !storable(f.DeviceID) {
		return 0, s.live(ctx)
	}
	defer s.memberSessionsEnded(f.MemberID, f.DeviceID) // after the commit
	var n int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		where, args := sessionWhere(f)
		tag, err := tx.Exec(ctx, "DELETE FROM sessions WHERE "+where, args...)
		n = int(tag.RowsAffected())
		return wrap("delete sessions", err)
	})
	return n, err
}

// deleteMemberSessions deletes the member's sessions in tx and returns
// them as they were.
func deleteMemberSessions(ctx context.Context, tx pgx.Tx, memberID string) ([]storage.Session, error) {
	return sessions.list(ctx, tx, "DELETE FROM sessions WHERE member_id = $1 RETURNING data", memberID)
}
