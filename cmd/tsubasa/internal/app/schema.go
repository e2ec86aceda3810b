package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"tsubasa/config"
	"tsubasa/storage/postgres"
)

// Schema is where a PostgreSQL database's schema stands, for `tsubasa db`.
type Schema struct {
	Current int      `json:"current"` // newest version applied; 0 for an empty database
	Latest  int      `json:"latest"`  // newest version this Tsubasa knows
	Pending []string `json:"pending"` // NNNN_name of each migration not applied, oldest first
}

// errBoltSchema answers `tsubasa db` on the embedded backend.
var errBoltSchema = errors.New("storage is the embedded bbolt file (storage.bolt.path), which needs no migration: " +
	"`tsubasa db` is for storage.postgres.url")

// ErrNotPostgres reports that cfg does not use PostgreSQL (db commands).
func ErrNotPostgres(err error) bool { return errors.Is(err, errBoltSchema) }

// SchemaStatus reads the schema's status of cfg's PostgreSQL database
// without changing anything.
func SchemaStatus(ctx context.Context, cfg config.Config) (Schema, error) {
	if !cfg.UsesPostgres() {
		return Schema{}, errBoltSchema
	}
	st, err := postgres.ReadStatus(ctx, PostgresOptions(cfg, nil))
	return schemaOf(st), err
}

// MigrateSchema applies the pending migrations to cfg's PostgreSQL
// database (under the advisory lock replicas starting together take) and
// returns the status before it did. Progress is logged to stderr.
func MigrateSchema(ctx context.Context, cfg config.Config, stderr io.Writer) (Schema, error) {
	if !cfg.UsesPostgres() {
		return Schema{}, errBoltSchema
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := postgres.Migrate(ctx, PostgresOptions(cfg, log))
	return schemaOf(st), err
}

func schemaOf(st postgres.SchemaStatus) Schema {
	s := Schema{Current: st.Current, Latest: st.Latest, Pending: []string{}}
	for _, m := range st.Pending {
		s.Pending = append(s.Pending, fmt.Sprintf("%04d_%s", m.Version, m.Name))
	}
	return s
}
