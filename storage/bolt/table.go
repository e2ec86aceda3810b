package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// index is a secondary key of a record kind. Its bucket maps key(pk, v) to
// pk. A unique index's key is the indexed value alone, so a second record
// with the same value is refused; other indexes append pk to the value (see
// ikey) and are read by prefix scans.
type index[T any] struct {
	name   string // for errors
	bucket []byte
	unique bool
	key    func(pk []byte, v *T) []byte // nil: v is not in this index
}

// table describes how one record kind is stored: its bucket, primary key,
// secondary indexes and, for kinds that expire, the expiry index.
type table[T any] struct {
	kind    string
	bucket  []byte
	pk      func(v *T) []byte
	label   func(pk []byte) string // names a record in errors; default kind %q
	indexes []index[T]

	expBucket []byte
	expires   func(v *T) (time.Time, bool) // false: never expires
}

// unique builds a unique index on a string field; empty values are not
// indexed.
func unique[T any](name string, bucket []byte, field func(*T) string) index[T] {
	return index[T]{name: name, bucket: bucket, unique: true, key: func(_ []byte, v *T) []byte {
		if f := field(v); f != "" {
			return []byte(f)
		}
		return nil
	}}
}

// multi builds a non-unique index on a string field; empty values are not
// indexed.
func multi[T any](name string, bucket []byte, field func(*T) string) index[T] {
	return index[T]{name: name, bucket: bucket, key: func(pk []byte, v *T) []byte {
		if f := field(v); f != "" {
			return ikey(f, pk)
		}
		return nil
	}}
}

// withExpiry adds the expiry index to t.
func (t *table[T]) withExpiry(bucket []byte, at func(*T) (time.Time, bool)) *table[T] {
	t.expBucket, t.expires = bucket, at
	t.indexes = append(t.indexes, index[T]{name: "expiry", bucket: bucket, key: func(pk []byte, v *T) []byte {
		if exp, ok := at(v); ok {
			return append(appendTimeKey(nil, exp), pk...)
		}
		return nil
	}})
	return t
}

func (t *table[T]) name(pk []byte) string {
	if t.label != nil {
		return t.label(pk)
	}
	return fmt.Sprintf("%s %q", t.kind, pk)
}

func (t *table[T]) notFound(pk []byte) error {
	return fmt.Errorf("bolt: %s: %w", t.name(pk), storage.ErrNotFound)
}

// get returns the record stored under pk, or an error wrapping ErrNotFound.
func (t *table[T]) get(tx *bbolt.Tx, pk []byte) (T, error) {
	var v T
	data := tx.Bucket(t.bucket).Get(pk)
	if data == nil {
		return v, t.notFound(pk)
	}
	if err := decode(data, &v); err != nil {
		return v, fmt.Errorf("bolt: %s: %w", t.name(pk), err)
	}
	return v, nil
}

// lookup returns the record a unique index points to.
func (t *table[T]) lookup(tx *bbolt.Tx, ix *index[T], key []byte) (T, error) {
	pk := tx.Bucket(ix.bucket).Get(key)
	if pk == nil {
		var v T
		return v, fmt.Errorf("bolt: %s by %s: %w", t.kind, ix.name, storage.ErrNotFound)
	}
	return t.get(tx, pk)
}

// check reports whether v may be stored: as a new record when isNew, else
// over the record with the same primary key. It writes nothing.
func (t *table[T]) check(tx *bbolt.Tx, isNew bool, v *T) error {
	pk := t.pk(v)
	if len(pk) == 0 {
		return fmt.Errorf("bolt: %s: empty key", t.kind)
	}
	if isNew && tx.Bucket(t.bucket).Get(pk) != nil {
		return fmt.Errorf("bolt: %s: %w", t.name(pk), storage.ErrAlreadyExists)
	}
	for i := range t.indexes {
		ix := &t.indexes[i]
		if !ix.unique {
			continue
		}
		k := ix.key(pk, v)
		if k == nil {
			continue
		}
		if got := tx.Bucket(ix.bucket).Get(k); got != nil && !bytes.Equal(got, pk) {
			return fmt.Errorf("bolt: %s: %s already taken: %w", t.name(pk), ix.name, storage.ErrAlreadyExists)
		}
	}
	return nil
}

// keys returns copies of v's index keys, one per index (nil where v is not
// indexed).
func (t *table[T]) keys(v *T) [][]byte {
	pk := t.pk(v)
	keys := make([][]byte, len(t.indexes))
	for i := range t.indexes {
		keys[i] = bytes.Clone(t.indexes[i].key(pk, v))
	}
	return keys
}

// put stores v and its index entries, first removing the entries old (the
// keys of the record it replaces, which has v's primary key; nil for a new
// record). Call check first.
//
// An entry whose key is the same in old and v is left as it is: it already
// maps that key to pk (check has made sure of that for a unique index, and
// every other key ends in pk), so deleting and re-putting it would only
// dirty one more B-tree page per index for the commit to write. Updates
// such as consuming a refresh token or a code change no indexed field, and
// then write the record alone.
func (t *table[T]) put(tx *bbolt.Tx, old [][]byte, v *T) error {
	data, err := encode(*v)
	if err != nil {
		return fmt.Errorf("bolt: %s: encode: %w", t.kind, err)
	}
	return t.putEncoded(tx, old, v, data)
}

// putEncoded is put with v already encoded as data, which a caller may do
// before the write: encoding then runs outside the one writer's turn.
func (t *table[T]) putEncoded(tx *bbolt.Tx, old [][]byte, v *T, data []byte) error {
	pk := bytes.Clone(t.pk(v))
	next := t.keys(v)
	for i, k := range old {
		if k != nil && !bytes.Equal(k, next[i]) {
			if err := tx.Bucket(t.indexes[i].bucket).Delete(k); err != nil {
				return fmt.Errorf("bolt: %s: index %s: %w", t.name(pk), t.indexes[i].name, err)
			}
		}
	}
	for i, k := range next {
		if k != nil && (old == nil || !bytes.Equal(k, old[i])) {
			if err := tx.Bucket(t.indexes[i].bucket).Put(k, pk); err != nil {
				return fmt.Errorf("bolt: %s: index %s: %w", t.name(pk), t.indexes[i].name, err)
			}
		}
	}
	if err := tx.Bucket(t.bucket).Put(pk, data); err != nil {
		return fmt.Errorf("bolt: %s: %w", t.name(pk), err)
	}
	return nil
}

func (t *table[T]) unindex(tx *bbolt.Tx, pk []byte, keys [][]byte) error {
	for i, k := range keys {
		if k != nil {
			if err := tx.Bucket(t.indexes[i].bucket).Delete(k); err != nil {
				return fmt.Errorf("bolt: %s: index %s: %w", t.name(pk), t.indexes[i].name, err)
			}
		}
	}
	return nil
}

// del removes v and its index entries.
func (t *table[T]) del(tx *bbolt.Tx, v *T) error {
	pk := t.pk(v)
	if err := t.unindex(tx, pk, t.keys(v)); err != nil {
		return err
	}
	if err := tx.Bucket(t.bucket).Delete(pk); err != nil {
		return fmt.Errorf("bolt: %s: %w", t.name(pk), err)
	}
	return nil
}

// scan returns copies of the keys and values of bucket that start with
// prefix, in key order.
func scan(tx *bbolt.Tx, bucket, prefix []byte) (keys, vals [][]byte) {
	c := tx.Bucket(bucket).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, bytes.Clone(k))
		vals = append(vals, bytes.Clone(v))
	}
	return keys, vals
}

// byIndex returns the records whose non-unique index entries start with
// prefix, in index order.
func (t *table[T]) byIndex(tx *bbolt.Tx, ix *index[T], prefix []byte) ([]T, error) {
	_, pks := scan(tx, ix.bucket, prefix)
	out := make([]T, 0, len(pks))
	for _, pk := range pks {
		v, err := t.get(tx, pk)
		if err != nil {
			return nil, fmt.Errorf("index %s out of step: %w", ix.name, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// byPrefix returns the records whose primary key starts with prefix.
func (t *table[T]) byPrefix(tx *bbolt.Tx, prefix []byte) ([]T, error) {
	var out []T
	c := tx.Bucket(t.bucket).Cursor()
	for k, data := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, data = c.Next() {
		var v T
		if err := decode(data, &v); err != nil {
			return nil, fmt.Errorf("bolt: %s: %w", t.name(k), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// due reports whether the expiry index starts with an entry not after now,
// that is whether deleteExpired would visit anything.
func (t *table[T]) due(tx *bbolt.Tx, now time.Time) bool {
	b := tx.Bucket(t.expBucket)
	if b == nil {
		return false // a late bucket a read-only open of an older file lacks
	}
	k, _ := b.Cursor().First()
	return len(k) >= timeKeyLen && bytes.Compare(k[:timeKeyLen], appendTimeKey(nil, now)) <= 0
}

// deleteExpired deletes up to limit records whose expiry is not after now,
// and returns how many it deleted and how many index entries it visited.
func (t *table[T]) deleteExpired(tx *bbolt.Tx, now time.Time, limit int) (deleted, visited int, err error) {
	end := appendTimeKey(nil, now)
	var keys, pks [][]byte
	c := tx.Bucket(t.expBucket).Cursor()
	for k, v := c.First(); k != nil && len(keys) < limit; k, v = c.Next() {
		if len(k) < timeKeyLen || bytes.Compare(k[:timeKeyLen], end) > 0 {
			break
		}
		keys = append(keys, bytes.Clone(k))
		pks = append(pks, bytes.Clone(v))
	}
	for i, pk := range pks {
		v, err := t.get(tx, pk)
		if errors.Is(err, storage.ErrNotFound) {
			if err := tx.Bucket(t.expBucket).Delete(keys[i]); err != nil {
				return 0, 0, err
			}
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		if at, ok := t.expires(&v); !ok || at.After(now) {
			// A stale entry: the record's expiry moved without it.
			if err := tx.Bucket(t.expBucket).Delete(keys[i]); err != nil {
				return 0, 0, err
			}
			continue
		}
		if err := t.del(tx, &v); err != nil {
			return 0, 0, err
		}
		deleted++
	}
	return deleted, len(keys), nil
}

// Generic operations on one record.

func getOne[T any](ctx context.Context, s *Store, t *table[T], pk []byte) (T, error) {
	var v T
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		v, err = t.get(tx, pk)
		return err
	})
	return v, err
}

func createOne[T any](ctx context.Context, s *Store, t *table[T], v T) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		if err := t.check(tx, true, &v); err != nil {
			return abort(err)
		}
		return t.put(tx, nil, &v)
	})
}

// putOne inserts or replaces v.
func putOne[T any](ctx context.Context, s *Store, t *table[T], v T) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		return putTx(tx, t, &v)
	})
}

// putTx inserts or replaces v inside a write; it aborts only before writing.
func putTx[T any](tx *bbolt.Tx, t *table[T], v *T) error {
	var old [][]byte
	exists := false
	if pk := t.pk(v); len(pk) > 0 {
		got, err := t.get(tx, pk)
		if err == nil {
			old, exists = t.keys(&got), true
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	if err := t.check(tx, !exists, v); err != nil {
		return abort(err)
	}
	return t.put(tx, old, v)
}

// updateOne applies fn to the record under pk. fn may run more than once
// (each time on a fresh copy); its error aborts the update unchanged.
func updateOne[T any](ctx context.Context, s *Store, t *table[T], pk []byte, fn func(T) (T, error)) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		return updateTx(tx, t, pk, fn)
	})
}

// updateTx is updateOne's work in tx.
func updateTx[T any](tx *bbolt.Tx, t *table[T], pk []byte, fn func(T) (T, error)) error {
	cur, err := t.get(tx, pk)
	if err != nil {
		return abort(err)
	}
	old := t.keys(&cur) // copies: fn may change cur's slices in place
	next, err := fn(cur)
	if err != nil {
		return abort(err)
	}
	if !bytes.Equal(t.pk(&next), pk) {
		return abort(fmt.Errorf("bolt: %s: an update may not change the key", t.name(pk)))
	}
	if err := t.check(tx, false, &next); err != nil {
		return abort(err)
	}
	return t.put(tx, old, &next)
}

func deleteOne[T any](ctx context.Context, s *Store, t *table[T], pk []byte) error {
	return s.write(ctx, func(tx *bbolt.Tx) error {
		v, err := t.get(tx, pk)
		if err != nil {
			return abort(err)
		}
		return t.del(tx, &v)
	})
}

func listAll[T any](ctx context.Context, s *Store, t *table[T]) ([]T, error) {
	var out []T
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = t.byPrefix(tx, nil)
		return err
	})
	return out, err
}
