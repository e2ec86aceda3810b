package bolt

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// Export and Import (storage.Exporter, storage.Importer): every record of
// a kind is read from its bucket as stored; Import writes through the same
// tables (indexes and expiry entries included) as the roles' own writes.

// kindIO reads and writes one kind inside a transaction.
type kindIO struct {
	bucket []byte
	each   func(tx *bbolt.Tx, fn func(any) error) error
	// put stores one record; remember runs after the commit (revocations).
	put func(s *Store, tx *bbolt.Tx, rec any, after *[]func()) error
}

func tableIO[T any](t *table[T]) kindIO {
	return kindIO{
		bucket: t.bucket,
		each: func(tx *bbolt.Tx, fn func(any) error) error {
			return tx.Bucket(t.bucket).ForEach(func(k, data []byte) error {
				var v T
				if err := decode(data, &v); err != nil {
					return fmt.Errorf("bolt: %s: %w", t.name(k), err)
				}
				return fn(v)
			})
		},
		put: func(_ *Store, tx *bbolt.Tx, rec any, _ *[]func()) error {
			v, ok := rec.(T)
			if !ok {
				return fmt.Errorf("bolt: import %s: got a %T", t.kind, rec)
			}
			if err := t.check(tx, true, &v); err != nil {
				return err
			}
			return t.put(tx, nil, &v)
		},
	}
}

var kindIOs = map[storage.Kind]kindIO{
	storage.KindSecrets:     secretsIO,
	storage.KindKeys:        tableIO(keys),
	storage.KindClients:     tableIO(clients),
	storage.KindMembers:     tableIO(members),
	storage.KindPasskeys:    tableIO(passkeys),
	storage.KindDevices:     tableIO(devices),
	storage.KindConsents:    tableIO(consents),
	storage.KindSessions:    tableIO(sessions),
	storage.KindTokens:      tableIO(tokens),
	storage.KindRevocations: revocationsIO,
	storage.KindOTPs:        tableIO(otps),
	storage.KindEvents:      tableIO(events),
	storage.KindOutbox:      tableIO(outbox),
	storage.KindSMSCounts:   smsCountsIO,
}

func ioOf(kind storage.Kind) (kindIO, error) {
	k, ok := kindIOs[kind]
	if !ok {
		return k, fmt.Errorf("bolt: unknown record kind %q", kind)
	}
	return k, nil
}

// Export calls fn with every record of kind (storage.Exporter).
func (s *Store) Export(ctx context.Context, kind storage.Kind, fn func(any) error) error {
	k, err := ioOf(kind)
	if err != nil {
		return err
	}
	return s.read(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(k.bucket) == nil {
			return nil // a file opened read-only before the bucket existed
		}
		return k.each(tx, func(v any) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(v)
		})
	})
}

// Count returns how many records of kind are stored (storage.Exporter).
func (s *Store) Count(ctx context.Context, kind storage.Kind) (int, error) {
	k, err := ioOf(kind)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.read(ctx, func(tx *bbolt.Tx) error {
		if b := tx.Bucket(k.bucket); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// Import stores records of kind in one commit (storage.Importer).
func (s *Store) Import(ctx context.Context, kind storage.Kind, records []any) error {
	k, err := ioOf(kind)
	if err != nil {
		return err
	}
	var after []func()
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		after = after[:0]
		for _, rec := range records {
			if err := k.put(s, tx, rec, &after); err != nil {
				return noAbort(err) // roll back what the batch wrote
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range after {
		f()
	}
	return nil
}

var secretsIO = kindIO{
	bucket: bSecrets,
	each: func(tx *bbolt.Tx, fn func(any) error) error {
		return tx.Bucket(bSecrets).ForEach(func(k, v []byte) error {
			return fn(storage.NamedSecret{Name: string(k), Value: bytes.Clone(v)})
		})
	},
	put: func(_ *Store, tx *bbolt.Tx, rec any, _ *[]func()) error {
		v, ok := rec.(storage.NamedSecret)
		if !ok {
			return fmt.Errorf("bolt: import secret: got a %T", rec)
		}
		if v.Name == "" || len(v.Value) == 0 {
			return fmt.Errorf("bolt: import secret: empty name or value")
		}
		b := tx.Bucket(bSecrets)
		if b.Get([]byte(v.Name)) != nil {
			return fmt.Errorf("bolt: secret %q: %w", v.Name, storage.ErrAlreadyExists)
		}
		return b.Put([]byte(v.Name), bytes.Clone(v.Value))
	},
}

var revocationsIO = kindIO{
	bucket: bRevocations,
	each: func(tx *bbolt.Tx, fn func(any) error) error {
		return tx.Bucket(bRevocations).ForEach(func(k, v []byte) error {
			var rec revocationRecord
			if err := decode(v, &rec); err != nil {
				return fmt.Errorf("bolt: token revocation: %w", err)
			}
			return fn(storage.Revocation{Filter: keyFilter(string(k)), RevokedAt: rec.RevokedAt, ExpiresAt: rec.ExpiresAt})
		})
	},
	put: func(s *Store, tx *bbolt.Tx, rec any, after *[]func()) error {
		v, ok := rec.(storage.Revocation)
		if !ok {
			return fmt.Errorf("bolt: import revocation: got a %T", rec)
		}
		shape := shapeOf(v.Filter)
		if shape == 0 {
			return fmt.Errorf("bolt: import revocation: empty filter")
		}
		key := revocationKey(shape, filterFields(v.Filter))
		b := tx.Bucket(bRevocations)
		if b.Get([]byte(key)) != nil {
			return fmt.Errorf("bolt: token revocation: %w", storage.ErrAlreadyExists)
		}
		data, err := encode(revocationRecord{RevokedAt: v.RevokedAt.UTC(), ExpiresAt: v.ExpiresAt.UTC()})
		if err != nil {
			return err
		}
		at := v.RevokedAt.UTC()
		*after = append(*after, func() { s.revoked.remember(key, at) })
		return b.Put([]byte(key), data)
	},
}

// keyFilter undoes revocationKey: each part is the field's index digit and
// its value, parts ended by 0x1f.
func keyFilter(key string) storage.TokenFilter {
	var vals [6]string
	for _, part := range strings.Split(strings.TrimSuffix(key, "\x1f"), "\x1f") {
		if part != "" && part[0] >= '0' && part[0] <= '5' {
			vals[part[0]-'0'] = part[1:]
		}
	}
	return storage.TokenFilter{ID: vals[0], FamilyID: vals[1], AuthRequestID: vals[2],
		SessionID: vals[3], MemberID: vals[4], ClientID: vals[5]}
}

var smsCountsIO = kindIO{
	bucket: bSMSBudget,
	each: func(tx *bbolt.Tx, fn func(any) error) error {
		return tx.Bucket(bSMSBudget).ForEach(func(k, v []byte) error {
			var m smsMinute
			if err := decode(v, &m); err != nil {
				return fmt.Errorf("bolt: sms budget: %w", err)
			}
			return fn(storage.SMSCount{Minute: timeOfKey(k), Count: m.Count})
		})
	},
	put: func(_ *Store, tx *bbolt.Tx, rec any, _ *[]func()) error {
		v, ok := rec.(storage.SMSCount)
		if !ok {
			return fmt.Errorf("bolt: import sms counter: got a %T", rec)
		}
		key := appendTimeKey(nil, v.Minute.UTC().Truncate(storage.SMSMinute))
		b := tx.Bucket(bSMSBudget)
		if b.Get(key) != nil {
			return fmt.Errorf("bolt: sms counter: %w", storage.ErrAlreadyExists)
		}
		data, err := encode(smsMinute{Count: v.Count})
		if err != nil {
			return err
		}
		return b.Put(key, data)
	},
}

// timeOfKey undoes appendTimeKey.
func timeOfKey(k []byte) time.Time {
	if len(k) < timeKeyLen {
		return time.Time{}
	}
	var sec uint64
	for _, c := range k[:8] {
		sec = sec<<8 | uint64(c)
	}
	var ns uint32
	for _, c := range k[8:12] {
		ns = ns<<8 | uint32(c)
	}
	return time.Unix(int64(sec^(1<<63)), int64(ns)).UTC()
}
