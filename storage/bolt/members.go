package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var members = &table[storage.Member]{
	kind:   "member",
	bucket: bMembers,
	pk:     func(m *storage.Member) []byte { return []byte(m.ID) },
	indexes: []index[storage.Member]{
		unique("number", bMemberNumber, func(m *storage.Member) string { return m.Number }),
		unique("WebAuthn handle", bMemberHandle, func(m *storage.Member) string { return string(m.WebAuthnHandle) }),
		multi("email", bMemberEmail, func(m *storage.Member) string { return m.Email }),
		multi("phone", bMemberPhone, func(m *storage.Member) string { return m.Phone }),
	},
}

// CreateMember stores a new member; the id, number and WebAuthn handle must
// be free.
func (s *Store) CreateMember(ctx context.Context, m storage.Member) error {
	return createOne(ctx, s, members, m)
}

// CreateMembers stores ms in one commit; see storage.Members.
//
// Imported members' ids sort by time (member's newImportedMemberID), so
// a batch appends at the end of the member tree, and usually of the
// number index too. For such appends the two buckets split pages at
// importFill instead of bbolt's half (the setting lasts for this commit
// only): the pages an import leaves behind are written, and later read,
// almost full, so a commit writes fewer of them (BenchmarkCreateMembersFilled:
// a third fewer bytes).
//
// The records are encoded before the write: a third of an import's CPU,
// which would otherwise run in the one writer's turn, while every other
// commit waits (a JSON record depends on the member alone).
func (s *Store) CreateMembers(ctx context.Context, ms []storage.Member) ([]error, error) {
	errs := make([]error, len(ms))
	data := make([][]byte, len(ms))
	for i := range ms {
		var err error
		if data[i], err = encode(ms[i]); err != nil {
			return nil, fmt.Errorf("bolt: %s: encode: %w", members.name([]byte(ms[i].ID)), err)
		}
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		clear(errs) // the batch may run this again
		tx.Bucket(bMembers).FillPercent = importFill
		tx.Bucket(bMemberNumber).FillPercent = importFill
		for i := range ms {
			m := ms[i]
			// Members written earlier in this loop are visible here, so
			// duplicates within ms are caught too.
			if err := members.check(tx, true, &m); err != nil {
				errs[i] = err
				continue
			}
			if err := members.putEncoded(tx, nil, &m, data[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// importFill is the FillPercent of the member buckets in CreateMembers'
// commits. Not 1: a page left full splits on the next insert into it, and
// members sign up (random ids) between imports.
const importFill = 0.9

// MemberByID returns the member with the given id.
// Answers come from a cache of decoded records (see memberCache).
func (s *Store) MemberByID(ctx context.Context, id string) (storage.Member, error) {
	m, gen, ok := s.members.get(id)
	if ok {
		return m, ctx.Err()
	}
	m, err := getOne(ctx, s, members, []byte(id))
	if err == nil {
		s.members.fill(m, gen)
	}
	return m, err
}

// MemberByNumber returns the member with the given membership number.
func (s *Store) MemberByNumber(ctx context.Context, number string) (storage.Member, error) {
	return s.memberBy(ctx, 0, []byte(number))
}

// MemberByWebAuthnHandle returns the member with the given WebAuthn user
// handle.
func (s *Store) MemberByWebAuthnHandle(ctx context.Context, handle []byte) (storage.Member, error) {
	return s.memberBy(ctx, 1, handle)
}

func (s *Store) memberBy(ctx context.Context, ix int, key []byte) (storage.Member, error) {
	var m storage.Member
	if len(key) == 0 {
		return m, fmt.Errorf("bolt: member by %s: empty key: %w", members.indexes[ix].name, storage.ErrNotFound)
	}
	// The index gives the id; the decoded record comes from the member
	// cache when it holds it (the back office reads members by number at
	// thousands a second), else it is decoded here and cached, as
	// MemberByID does. A cached record whose key no longer matches (a
	// change committed since the index was read) is not used.
	gen := s.members.generation()
	cached := false
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		pk := tx.Bucket(members.indexes[ix].bucket).Get(key)
		if pk == nil {
			return fmt.Errorf("bolt: member by %s: %w", members.indexes[ix].name, storage.ErrNotFound)
		}
		if c, _, ok := s.members.get(string(pk)); ok && bytes.Equal(members.indexes[ix].key(pk, &c), key) {
			m, cached = c, true
			return nil
		}
		var err error
		m, err = members.get(tx, pk)
		return err
	})
	if err == nil && !cached {
		s.members.fill(m, gen)
	}
	return m, err
}

// UpdateMember applies fn to the member; see storage.Members.
func (s *Store) UpdateMember(ctx context.Context, id string, fn func(storage.Member) (storage.Member, error)) error {
	defer s.members.changed(id) // after the commit
	return updateOne(ctx, s, members, []byte(id), fn)
}

// UpdateMemberWithEvents is UpdateMember and AppendEvent for each event, in
// one commit: nothing is written unless all of it is.
func (s *Store) UpdateMemberWithEvents(ctx context.Context, id string, fn func(storage.Member) (storage.Member, error), evs ...storage.Event) error {
	defer s.members.changed(id) // after the commit
	return s.write(ctx, func(tx *bbolt.Tx) error {
		// The events are checked before the member's update writes.
		for i := range evs {
			if err := events.check(tx, true, &evs[i]); err != nil {
				return abort(err)
			}
		}
		if err := updateTx(tx, members, []byte(id), fn); err != nil {
			return err
		}
		for i := range evs {
			if err := putEvent(tx, &evs[i]); err != nil {
				return noAbort(err)
			}
		}
		return nil
	})
}

// CountMembers returns the number of members.
func (s *Store) CountMembers(ctx context.Context) (int, error) {
	var n int
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		n = tx.Bucket(bMembers).Stats().KeyN
		return nil
	})
	return n, err
}
