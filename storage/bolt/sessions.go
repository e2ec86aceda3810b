package bolt

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var sessions = (&table[storage.Session]{
	kind:   "session",
	bucket: bSessions,
	pk:     func(s *storage.Session) []byte { return []byte(s.ID) },
	indexes: []index[storage.Session]{
		multi("member", bSessionsByMember, func(s *storage.Session) string { return s.MemberID }),
	},
}).withExpiry(bSessionsByExpiry, func(s *storage.Session) (time.Time, bool) { return s.ExpiresAt, true })

// CreateSession stores a new session. A unit holds it (see
// storage.Units).
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	return s.hold(ctx, func(tx *bbolt.Tx) error {
		if err := sessions.check(tx, true, &sess); err != nil {
			return abort(err)
		}
		return sessions.put(tx, nil, &sess)
	})
}

// SessionByID returns the session, even when expired.
func (s *Store) SessionByID(ctx context.Context, id string) (storage.Session, error) {
	return getOne(ctx, s, sessions, []byte(id))
}

// UpdateSession applies fn to the session.
func (s *Store) UpdateSession(ctx context.Context, id string, fn func(storage.Session) (storage.Session, error)) error {
	return updateOne(ctx, s, sessions, []byte(id), fn)
}

// DeleteSession deletes one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return deleteOne(ctx, s, sessions, []byte(id))
}

func sessionsOf(tx *bbolt.Tx, f storage.SessionFilter) ([]storage.Session, error) {
	all, err := sessions.byIndex(tx, &sessions.indexes[0], iprefix(f.MemberID))
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if f.DeviceID == "" || s.DeviceID == f.DeviceID {
			out = append(out, s)
		}
	}
	return out, nil
}

var errSessionFilter = errors.New("bolt: session filter: MemberID is required")

// ListSessions returns the member's sessions, narrowed to a device when the
// filter names one.
func (s *Store) ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	if f.MemberID == "" {
		return nil, errSessionFilter
	}
	var out []storage.Session
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = sessionsOf(tx, f)
		return err
	})
	return out, err
}

// DeleteSessions deletes the sessions ListSessions would return.
func (s *Store) DeleteSessions(ctx context.Context, f storage.SessionFilter) (int, error) {
	if f.MemberID == "" {
		return 0, errSessionFilter
	}
	var n int
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		n = 0
		ss, err := sessionsOf(tx, f)
		if err != nil {
			return err
		}
		for i := range ss {
			if err := sessions.del(tx, &ss[i]); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
