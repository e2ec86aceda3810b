package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// The members' email and phone indexes (members_by_email,
// members_by_phone) came after files were in use: a read-write open that
// creates them fills them from the members bucket (indexContacts), in the
// same transaction, so no member is missing from them.

// Positions of the contact indexes in members.indexes.
const (
	emailIndex = 2
	phoneIndex = 3
)

// MembersByEmail returns up to limit members whose Email is email.
func (s *Store) MembersByEmail(ctx context.Context, email string, limit int) ([]storage.Member, error) {
	return s.membersByContact(ctx, emailIndex, email, limit)
}

// MembersByPhone returns up to limit members whose Phone is phone.
func (s *Store) MembersByPhone(ctx context.Context, phone string, limit int) ([]storage.Member, error) {
	return s.membersByContact(ctx, phoneIndex, phone, limit)
}

func (s *Store) membersByContact(ctx context.Context, ix int, value string, limit int) ([]storage.Member, error) {
	if value == "" || limit <= 0 {
		return nil, nil
	}
	var out []storage.Member
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		out = nil
		idx := &members.indexes[ix]
		b := tx.Bucket(idx.bucket)
		if b == nil {
			return fmt.Errorf("bolt: member by %s: the file predates the index: open it read-write once", idx.name)
		}
		prefix := iprefix(value)
		c := b.Cursor()
		for k, pk := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, pk = c.Next() {
			m, err := members.get(tx, pk)
			if err != nil {
				return fmt.Errorf("index %s out of step: %w", idx.name, err)
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// indexContacts fills the contact indexes from the members bucket.
func indexContacts(tx *bbolt.Tx) error {
	return tx.Bucket(bMembers).ForEach(func(pk, data []byte) error {
		var m storage.Member
		if err := decode(data, &m); err != nil {
			return fmt.Errorf("bolt: indexing member %q: %w", pk, err)
		}
		for _, ix := range []int{emailIndex, phoneIndex} {
			if k := members.indexes[ix].key(pk, &m); k != nil {
				if err := tx.Bucket(members.indexes[ix].bucket).Put(k, bytes.Clone(pk)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
