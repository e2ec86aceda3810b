package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

var members = newTable(table[storage.Member]{
	kind:   "member",
	key:    []string{"id"},
	keyOf:  func(m *storage.Member) []any { return []any{m.ID} },
	cols:   []string{"number", "webauthn_handle", "email", "phone"},
	colsOf: memberCols,
}, "members")

// memberCols are the columns of members beside the id and data; every
// write of a member writes them all (contacts.go for email and phone).
func memberCols(m *storage.Member) []any {
	return []any{null(m.Number), nullBytes(m.WebAuthnHandle), contactCol(m.Email), contactCol(m.Phone)}
}

const (
	memberByNumberSQL = "SELECT data FROM members WHERE number = $1"
	memberByHandleSQL = "SELECT data FROM members WHERE webauthn_handle = $1"
)

// createMemberSQL skips a member whose id, number or handle is taken, so
// that one taken key does not abort CreateMembers' transaction. It is the
// table's own insert, so that it writes every column CreateMember writes
// (the contacts too).
var createMemberSQL = members.insert + " ON CONFLICT DO NOTHING"

// memberChanged is the notification payload for a change to member id:
// every process drops it from its member cache ("M", too long for a
// notification: every process empties it).
func memberChanged(id string) string {
	if len(id) > 3500 {
		return "M"
	}
	return "m" + id
}

// CreateMember stores a new member; the id, number and WebAuthn handle must
// be free.
func (s *Store) CreateMember(ctx context.Context, m storage.Member) error {
	return createOne(ctx, s, members, m)
}

// CreateMembers stores ms in one transaction, sent as one batch; see
// storage.Members.
func (s *Store) CreateMembers(ctx context.Context, ms []storage.Member) ([]error, error) {
	errs := make([]error, len(ms))
	if len(ms) == 0 {
		return errs, s.live(ctx)
	}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		clear(errs)
		b := &pgx.Batch{}
		var queued []int // indexes of ms in the batch
		for i := range ms {
			if errs[i] = members.checkKey(&ms[i]); errs[i] != nil {
				continue // as bolt: this member fails, the others go on
			}
			args, err := members.args(&ms[i])
			if err != nil {
				return err
			}
			b.Queue(createMemberSQL, args...)
			queued = append(queued, i)
		}
		res := tx.SendBatch(ctx, b)
		for _, i := range queued {
			// A member taken by an earlier one of ms, or already stored,
			// inserts no row.
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return wrap("create members", err)
			}
			if tag.RowsAffected() == 0 {
				errs[i] = alreadyExists(members.name([]any{ms[i].ID}) + ": id, number or WebAuthn handle")
			}
		}
		return wrap("create members", res.Close())
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// MemberByID returns the member with the given id, from the member cache
// while the feed is fresh (see recordCache).
func (s *Store) MemberByID(ctx context.Context, id string) (storage.Member, error) {
	return cachedGet(ctx, s, s.members, id, func() (storage.Member, error) { return members.get(ctx, s.pool, id) })
}

// MemberByIDFresh is MemberByID from the database, whatever the member
// cache holds (storage.Fresh).
func (s *Store) MemberByIDFresh(ctx context.Context, id string) (storage.Member, error) {
	if err := s.live(ctx); err != nil {
		return storage.Member{}, err
	}
	return members.get(ctx, s.pool, id)
}

// MemberByNumber returns the member with the given membership number.
func (s *Store) MemberByNumber(ctx context.Context, number string) (storage.Member, error) {
	if number == "" || !storable(number) {
		return storage.Member{}, notFound("member by number")
	}
	return s.memberBy(ctx, memberByNumberSQL, "number", number)
}

// MemberByWebAuthnHandle returns the member with the given WebAuthn user
// handle.
func (s *Store) MemberByWebAuthnHandle(ctx context.Context, handle []byte) (storage.Member, error) {
	if len(handle) == 0 {
		return storage.Member{}, notFound("member by WebAuthn handle")
	}
	return s.memberBy(ctx, memberByHandleSQL, "WebAuthn handle", handle)
}

func (s *Store) memberBy(ctx context.Context, sql, by string, key any) (storage.Member, error) {
	var m storage.Member
	if err := s.live(ctx); err != nil {
		return m, err
	}
	var data []byte
	err := s.pool.QueryRow(ctx, sql, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, notFound("member by " + by)
	}
	if err == nil {
		err = decode(data, &m)
	}
	return m, wrap("member by "+by, err)
}

// UpdateMember applies fn to the member; see storage.Members.
func (s *Store) UpdateMember(ctx context.Context, id string, fn func(storage.Member) (storage.Member, error)) error {
	defer s.members.changed(id) // after the commit
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return updateMemberTx(ctx, tx, id, fn)
	})
}

// updateMemberTx updates the member and tells the other processes.
func updateMemberTx(ctx context.Context, tx pgx.Tx, id string, fn func(storage.Member) (storage.Member, error)) error {
	if _, err := members.updateTx(ctx, tx, []any{id}, fn); err != nil {
		return err
	}
	return notify(ctx, tx, memberChanged(id))
}

// UpdateMemberWithEvents is UpdateMember and AppendEvent for each event, in
// one transaction: nothing is written unless all of it is.
func (s *Store) UpdateMemberWithEvents(ctx context.Context, id string, fn func(storage.Member) (storage.Member, error), evs ...storage.Event) error {
	defer s.members.changed(id) // after the commit
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := updateMemberTx(ctx, tx, id, fn); err != nil {
			return err
		}
		return appendEvents(ctx, tx, evs)
	})
}

// CountMembers returns the number of members.
func (s *Store) CountMembers(ctx context.Context) (int, error) {
	if err := s.live(ctx); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM members").Scan(&n)
	return n, wrap("count members", err)
}

// TokenRevokedAndMemberFresh sends TokenRevokedFresh's and
// MemberByIDFresh's reads in one batch: one round trip for the code
// exchange's two fresh checks (storage.FreshPair).
func (s *Store) TokenRevokedAndMemberFresh(ctx context.Context, t storage.Token, memberID string) (bool, storage.Member, error) {
	if err := s.live(ctx); err != nil {
		return false, storage.Member{}, err
	}
	if !storable(memberID) {
		revoked, err := s.tokenRevokedInDB(ctx, t)
		if err != nil {
			return false, storage.Member{}, err
		}
		return revoked, storage.Member{}, notFound("member")
	}
	var (
		revoked bool
		m       storage.Member
		merr    error
	)
	b := &pgx.Batch{}
	b.Queue(tokenRevokedSQL, candidateKeys(&t), t.CreatedAt, ns(t.CreatedAt)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&revoked)
	})
	b.Queue(members.sel, memberID).QueryRow(func(row pgx.Row) error {
		m, merr = members.scan(row, []any{memberID})
		return nil
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		// The caller refuses the code: no answer is not "not revoked".
		return false, storage.Member{}, wrap("token revoked and member", err)
	}
	if merr != nil && !isNotFound(merr) {
		return false, storage.Member{}, merr
	}
	return revoked, m, merr
}
