package bolt

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var keys = &table[storage.SigningKey]{
	kind:   "signing key",
	bucket: bKeys,
	pk:     func(k *storage.SigningKey) []byte { return []byte(k.ID) },
}

// CreateKey stores a new signing key.
func (s *Store) CreateKey(ctx context.Context, k storage.SigningKey) error {
	defer s.changes.notify(storage.ChangeKeys, k.ID)
	return createOne(ctx, s, keys, k)
}

// ListKeys returns every signing key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	ks, err := listAll(ctx, s, keys)
	slices.SortStableFunc(ks, func(a, b storage.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return ks, err
}

// UpdateKey applies fn to the signing key.
func (s *Store) UpdateKey(ctx context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	defer s.changes.notify(storage.ChangeKeys, id)
	return updateOne(ctx, s, keys, []byte(id), fn)
}

// DeleteKey deletes the signing key.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	defer s.changes.notify(storage.ChangeKeys, id)
	return deleteOne(ctx, s, keys, []byte(id))
}

// Secret returns the secret called name, creating it once with create.
func (s *Store) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	if name == "" {
		return nil, errors.New("bolt: secret: empty name")
	}
	if b, err := s.secret(ctx, name); b != nil || err != nil {
		return b, err
	}
	// Slow path, once per secret in practice: serialise it so that create
	// runs once in this process, and let the write keep the first value
	// stored in any case.
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if b, err := s.secret(ctx, name); b != nil || err != nil {
		return b, err
	}
	created, err := create()
	if err != nil {
		return nil, fmt.Errorf("bolt: secret %q: create: %w", name, err)
	}
	if len(created) == 0 {
		return nil, fmt.Errorf("bolt: secret %q: create returned no bytes", name)
	}
	value := bytes.Clone(created)
	var stored []byte
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSecrets)
		if got := b.Get([]byte(name)); got != nil {
			stored = bytes.Clone(got)
			return nil
		}
		stored = value
		return b.Put([]byte(name), value)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: secret %q: %w", name, err)
	}
	return bytes.Clone(stored), nil
}

// secret returns a copy of the stored secret, or nil.
func (s *Store) secret(ctx context.Context, name string) ([]byte, error) {
	var out []byte
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bSecrets).Get([]byte(name)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: secret %q: %w", name, err)
	}
	return out, nil
}
