package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// Export and Import (storage.Exporter, storage.Importer): every record of
// a kind is read from its table as stored (a token's consumed column wins
// over its data, as for every read); Import writes through the same
// tables, columns and constraints as the roles' own writes, in one
// transaction.

// kindIO reads and writes one kind.
type kindIO struct {
	table string
	each  func(ctx context.Context, q querier, fn func(any) error) error
	put   func(ctx context.Context, tx pgx.Tx, rec any) error
}

func tableIO[T any](t *table[T]) kindIO {
	return kindIO{
		table: t.table,
		each: func(ctx context.Context, q querier, fn func(any) error) error {
			cols := "data"
			if t.consumed != nil {
				cols = "data, consumed"
			}
			return eachRow(ctx, q, "SELECT "+cols+" FROM "+t.table, t.kind, func(rows pgx.Rows) error {
				v, err := t.scan(rows, nil)
				if err != nil {
					return err
				}
				return fn(v)
			})
		},
		put: func(ctx context.Context, tx pgx.Tx, rec any) error {
			v, ok := rec.(T)
			if !ok {
				return fmt.Errorf("postgres: import %s: got a %T", t.kind, rec)
			}
			return t.create(ctx, tx, &v)
		},
	}
}

// eachRow calls fn with each row of sql.
func eachRow(ctx context.Context, q querier, sql, what string, fn func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return wrap(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return wrap(what, rows.Err())
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
		return k, fmt.Errorf("postgres: unknown record kind %q", kind)
	}
	return k, nil
}

// Export calls fn with every record of kind (storage.Exporter). It reads
// one snapshot (a REPEATABLE READ, read-only transaction).
func (s *Store) Export(ctx context.Context, kind storage.Kind, fn func(any) error) error {
	k, err := ioOf(kind)
	if err != nil {
		return err
	}
	if err := s.live(ctx); err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return k.each(ctx, tx, fn) })
}

// Count returns how many records of kind are stored (storage.Exporter).
func (s *Store) Count(ctx context.Context, kind storage.Kind) (int, error) {
	k, err := ioOf(kind)
	if err != nil {
		return 0, err
	}
	if err := s.live(ctx); err != nil {
		return 0, err
	}
	var n int
	// The table name comes from kindIOs, never from the caller.
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+k.table).Scan(&n); err != nil {
		return 0, wrap("count "+string(kind), err)
	}
	return n, nil
}

// Import stores records of kind in one transaction (storage.Importer).
// Revocations and members are announced to the other processes as the
// roles' own writes announce them.
func (s *Store) Import(ctx context.Context, kind storage.Kind, records []any) error {
	k, err := ioOf(kind)
	if err != nil {
		return err
	}
	if err := s.live(ctx); err != nil {
		return err
	}
	err = s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, rec := range records {
			if err := k.put(ctx, tx, rec); err != nil {
				return err
			}
		}
		if kind == storage.KindRevocations && len(records) > 0 {
			return notify(ctx, tx, "R") // every process reads them all again
		}
		return nil
	})
	if err != nil {
		return err
	}
	if kind == storage.KindRevocations {
		return s.loadRevocations(ctx, s.pool)
	}
	return nil
}

var secretsIO = kindIO{
	table: "secrets",
	each: func(ctx context.Context, q querier, fn func(any) error) error {
		return eachRow(ctx, q, "SELECT name, value FROM secrets", "secrets", func(rows pgx.Rows) error {
			var v storage.NamedSecret
			if err := rows.Scan(&v.Name, &v.Value); err != nil {
				return wrap("secrets", err)
			}
			return fn(v)
		})
	},
	put: func(ctx context.Context, tx pgx.Tx, rec any) error {
		v, ok := rec.(storage.NamedSecret)
		if !ok {
			return fmt.Errorf("postgres: import secret: got a %T", rec)
		}
		if v.Name == "" || !storable(v.Name) || len(v.Value) == 0 {
			return errors.New("postgres: import secret: empty or unstorable name, or no value")
		}
		if _, err := tx.Exec(ctx, "INSERT INTO secrets (name, value) VALUES ($1, $2)", v.Name, v.Value); err != nil {
			if isUniqueViolation(err) {
				return alreadyExists(fmt.Sprintf("secret %q", v.Name))
			}
			return wrap("import secret", err)
		}
		return nil
	},
}

var revocationsIO = kindIO{
	table: "token_revocations",
	each: func(ctx context.Context, q querier, fn func(any) error) error {
		const sql = "SELECT key, revoked_at, revoked_ns, expires_at FROM token_revocations"
		return eachRow(ctx, q, sql, "token revocations", func(rows pgx.Rows) error {
			var (
				key     []byte
				at, exp time.Time
				n       int16
			)
			if err := rows.Scan(&key, &at, &n, &exp); err != nil {
				return wrap("token revocations", err)
			}
			f, ok := keyFilter(key)
			if !ok {
				return errors.New("postgres: token revocation: a key this code did not write")
			}
			return fn(storage.Revocation{Filter: f, RevokedAt: at.UTC().Add(time.Duration(n)), ExpiresAt: exp.UTC()})
		})
	},
	put: func(ctx context.Context, tx pgx.Tx, rec any) error {
		v, ok := rec.(storage.Revocation)
		if !ok {
			return fmt.Errorf("postgres: import revocation: got a %T", rec)
		}
		values := filterFields(v.Filter)
		shape := shapeOf(values)
		if shape == 0 {
			return errors.New("postgres: import revocation: empty filter")
		}
		key := revocationKey(shape, values)
		at := v.RevokedAt.UTC()
		const sql = "INSERT INTO token_revocations (key, shape, revoked_at, revoked_ns, expires_at) VALUES ($1, $2, $3, $4, $5)"
		if _, err := tx.Exec(ctx, sql, []byte(key), int16(shape), at, ns(at), v.ExpiresAt.UTC()); err != nil {
			if isUniqueViolation(err) {
				return alreadyExists("token revocation")
			}
			return wrap("import token revocation", err)
		}
		return nil
	},
}

// keyFilter undoes revocationKey: each field as its index byte and its
// length-prefixed value.
func keyFilter(key []byte) (storage.TokenFilter, bool) {
	var vals [6]string
	for len(key) > 0 {
		i := key[0]
		n, w := binary.Uvarint(key[1:])
		if i > 5 || w <= 0 || uint64(len(key)-1-w) < n {
			return storage.TokenFilter{}, false
		}
		start := 1 + w
		vals[i] = string(key[start : start+int(n)])
		key = key[start+int(n):]
	}
	return storage.TokenFilter{ID: vals[0], FamilyID: vals[1], AuthRequestID: vals[2],
		SessionID: vals[3], MemberID: vals[4], ClientID: vals[5]}, true
}

var smsCountsIO = kindIO{
	table: "sms_budget",
	each: func(ctx context.Context, q querier, fn func(any) error) error {
		return eachRow(ctx, q, "SELECT minute, count FROM sms_budget", "sms budget", func(rows pgx.Rows) error {
			var v storage.SMSCount
			if err := rows.Scan(&v.Minute, &v.Count); err != nil {
				return wrap("sms budget", err)
			}
			v.Minute = v.Minute.UTC()
			return fn(v)
		})
	},
	put: func(ctx context.Context, tx pgx.Tx, rec any) error {
		v, ok := rec.(storage.SMSCount)
		if !ok {
			return fmt.Errorf("postgres: import sms counter: got a %T", rec)
		}
		minute := v.Minute.UTC().Truncate(storage.SMSMinute)
		if _, err := tx.Exec(ctx, "INSERT INTO sms_budget (minute, count) VALUES ($1, $2)", minute, v.Count); err != nil {
			if isUniqueViolation(err) {
				return alreadyExists("sms counter")
			}
			return wrap("import sms counter", err)
		}
		return nil
	},
}
