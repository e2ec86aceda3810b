package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Dump hands fn every row of every table of the schema, as PostgreSQL
// writes the row as text, and the in-memory caches' members, for the
// conformance suite's erasure scan (storagetest.Dumper). Tests only.
func Dump(s *Store, ctx context.Context, fn func(where string, data []byte)) error {
	rows, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, table := range tables {
		rows, err := s.pool.Query(ctx, fmt.Sprintf("SELECT t::text FROM %s t", pgx.Identifier{table}.Sanitize()))
		if err != nil {
			return err
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for i, text := range texts {
			fn(fmt.Sprintf("table %s row %d", table, i), []byte(text))
		}
	}
	return nil
}
