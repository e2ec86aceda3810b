package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// table describes how one record kind is stored: its table, primary key
// columns and the other columns derived from the record, besides data.
// Its SQL is built once by newTable.
type table[T any] struct {
	kind   string // for errors
	key    []string
	keyOf  func(*T) []any
	cols   []string
	colsOf func(*T) []any
	// label names a record in errors; default kind and key. Keys that are
	// hashes of bearer secrets must not appear in errors.
	label func(key []any) string
	// consumed, for the kinds whose single-use claim is a statement of its
	// own, points at the field the consumed column overrides.
	consumed func(*T) *bool

	// table is the SQL table's name.
	table string

	sel, selForUpdate, insert, upsert, update, del string
}

func newTable[T any](t table[T], name string) *table[T] {
	var where []string
	for i, k := range t.key {
		where = append(where, fmt.Sprintf("%s = $%d", k, i+1))
	}
	w := strings.Join(where, " AND ")
	t.table = name
	cols := "data"
	if t.consumed != nil {
		cols = "data, consumed"
	}
	t.sel = "SELECT " + cols + " FROM " + name + " WHERE " + w
	t.selForUpdate = t.sel + " FOR UPDATE"
	t.del = "DELETE FROM " + name + " WHERE " + w

	all := t.allCols()
	var params, sets []string
	for i, c := range all {
		params = append(params, fmt.Sprintf("$%d", i+1))
		if i >= len(t.key) {
			sets = append(sets, fmt.Sprintf("%s = $%d", c, i+1))
		}
	}
	t.insert = "INSERT INTO " + name + " (" + strings.Join(all, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
	t.upsert = t.insert + " ON CONFLICT (" + strings.Join(t.key, ", ") + ") DO UPDATE SET " +
		strings.Join(prefixed(t.cols, "EXCLUDED."), ", ")
	t.update = "UPDATE " + name + " SET " + strings.Join(sets, ", ") + " WHERE " + w
	return &t
}

// allCols are the columns of an insert: key, columns, data (args' order).
func (t *table[T]) allCols() []string {
	return append(append(append([]string{}, t.key...), t.cols...), "data")
}

// prefixed returns "c = EXCLUDED.c" for each column and data.
func prefixed(cols []string, p string) []string {
	var out []string
	for _, c := range append(append([]string{}, cols...), "data") {
		out = append(out, c+" = "+p+c)
	}
	return out
}

func (t *table[T]) name(key []any) string {
	if t.label != nil {
		return t.label(key)
	}
	switch len(key) {
	case 0:
		return t.kind
	case 1:
		return fmt.Sprintf("%s %q", t.kind, key[0])
	}
	return fmt.Sprintf("%s %q", t.kind, key)
}

// args returns the statement arguments of v: key, columns, data.
func (t *table[T]) args(v *T) ([]any, error) {
	data, err := encode(*v)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: encode: %w", t.kind, err)
	}
	args := append(t.keyOf(v), t.colsOf(v)...)
	return append(args, data), nil
}

// checkKey refuses an empty key, as bolt does.
func (t *table[T]) checkKey(v *T) error {
	for _, k := range t.keyOf(v) {
		if s, ok := k.(string); ok && s == "" {
			return fmt.Errorf("postgres: %s: empty key", t.kind)
		}
		if b, ok := k.([]byte); ok && len(b) == 0 {
			return fmt.Errorf("postgres: %s: empty key", t.kind)
		}
	}
	return nil
}

// scan decodes one row of sel.
func (t *table[T]) scan(row pgx.Row, key []any) (T, error) {
	var (
		v        T
		data     []byte
		consumed bool
	)
	dest := []any{&data}
	if t.consumed != nil {
		dest = append(dest, &consumed)
	}
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return v, notFound(t.name(key))
		}
		return v, wrap(t.name(key), err)
	}
	if err := decode(data, &v); err != nil {
		return v, wrap(t.name(key), err)
	}
	if t.consumed != nil {
		*t.consumed(&v) = consumed
	}
	return v, nil
}

func (t *table[T]) get(ctx context.Context, q querier, key ...any) (T, error) {
	if !storableKeys(key) {
		var v T
		return v, notFound(t.name(key))
	}
	return t.scan(q.QueryRow(ctx, t.sel, key...), key)
}

// lock reads the record and locks its row until the transaction ends.
func (t *table[T]) lock(ctx context.Context, tx pgx.Tx, key ...any) (T, error) {
	if !storableKeys(key) {
		var v T
		return v, notFound(t.name(key))
	}
	return t.scan(tx.QueryRow(ctx, t.selForUpdate, key...), key)
}

// exec runs one of t's writes of v, mapping a unique violation.
func (t *table[T]) exec(ctx context.Context, q querier, sql string, v *T) error {
	if err := t.checkKey(v); err != nil {
		return err
	}
	args, err := t.args(v)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, sql, args...)
	return t.execErr(v, err)
}

// execErr maps the error of a write of v: a unique violation is
// ErrAlreadyExists.
func (t *table[T]) execErr(v *T, err error) error {
	if err == nil {
		return nil
	}
	if isUniqueViolation(err) {
		return alreadyExists(t.name(t.keyOf(v)))
	}
	return wrap(t.name(t.keyOf(v)), err)
}

func (t *table[T]) create(ctx context.Context, q querier, v *T) error {
	return t.exec(ctx, q, t.insert, v)
}

// put inserts or replaces v.
func (t *table[T]) put(ctx context.Context, q querier, v *T) error {
	return t.exec(ctx, q, t.upsert, v)
}

// remove deletes the record under key, or returns ErrNotFound.
func (t *table[T]) remove(ctx context.Context, q querier, key ...any) error {
	if !storableKeys(key) {
		return notFound(t.name(key))
	}
	tag, err := q.Exec(ctx, t.del, key...)
	if err != nil {
		return wrap(t.name(key), err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(t.name(key))
	}
	return nil
}

// updateTx applies fn to the record under key, its row locked meanwhile.
// fn gets a fresh decoding each time, so changing it in place cannot reach
// the store.
func (t *table[T]) updateTx(ctx context.Context, tx pgx.Tx, key []any, fn func(T) (T, error)) (T, error) {
	cur, err := t.lock(ctx, tx, key...)
	if err != nil {
		return cur, err
	}
	next, err := fn(cur)
	if err != nil {
		return next, err
	}
	if !sameKey(t.keyOf(&next), key) {
		return next, fmt.Errorf("postgres: %s: an update may not change the key", t.name(key))
	}
	return next, t.exec(ctx, tx, t.update, &next)
}

func sameKey(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch x := a[i].(type) {
		case []byte:
			y, ok := b[i].([]byte)
			if !ok || !bytes.Equal(x, y) {
				return false
			}
		default:
			if a[i] != b[i] {
				return false
			}
		}
	}
	return true
}

// list decodes every row of a query that selects data (and consumed, for
// tables that have it).
func (t *table[T]) list(ctx context.Context, q querier, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap(t.kind, err)
	}
	var out []T
	for rows.Next() {
		v, err := t.scan(rows, nil)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	return out, wrap(t.kind, rows.Err())
}

// Generic operations on one record, each its own transaction (or carried
// with what the context's unit holds). A single statement needs no
// transaction of its own, and an update sends its BEGIN with its read and
// its COMMIT with its write (pipeline.go): one round trip for the first,
// two for the second, instead of three and four.

func getOne[T any](ctx context.Context, s *Store, t *table[T], key ...any) (T, error) {
	if err := s.live(ctx); err != nil {
		var v T
		return v, err
	}
	return t.get(ctx, s.pool, key...)
}

func createOne[T any](ctx context.Context, s *Store, t *table[T], v T) error {
	return s.writeStatement(ctx, func(ctx context.Context, q querier) error { return t.create(ctx, q, &v) })
}

func putOne[T any](ctx context.Context, s *Store, t *table[T], v T) error {
	return s.writeStatement(ctx, func(ctx context.Context, q querier) error { return t.put(ctx, q, &v) })
}

func updateOne[T any](ctx context.Context, s *Store, t *table[T], key []any, fn func(T) (T, error)) error {
	if s.carries(ctx) || !storableKeys(key) {
		return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
			_, err := t.updateTx(ctx, tx, key, fn)
			return err
		})
	}
	return updatePipelined(ctx, s, t, key, fn)
}

func deleteOne[T any](ctx context.Context, s *Store, t *table[T], key ...any) error {
	return s.writeStatement(ctx, func(ctx context.Context, q querier) error { return t.remove(ctx, q, key...) })
}
