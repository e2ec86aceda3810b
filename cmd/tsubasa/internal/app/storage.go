package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"tsubasa/config"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/postgres"
)

// openStore opens the configured backend: the bbolt file (waiting
// lockTimeout for its lock), or PostgreSQL when storage.postgres.url is
// set. migrate says whether pending schema migrations may be applied
// (serve, with storage.postgres.auto_migrate); the CLI's admin commands
// never change the schema under running replicas.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, lockTimeout time.Duration, migrate bool) (storage.Store, error) {
	// Revocations of self-contained access tokens must outlive them.
	revokeFor := cfg.Tokens.AccessTokenTTL + time.Hour
	if !cfg.UsesPostgres() {
		return bolt.Open(cfg.Storage.Bolt.Path, bolt.Options{Timeout: lockTimeout, Logger: log, RevokeFor: revokeFor})
	}
	o := PostgresOptions(cfg, log)
	o.RevokeFor = revokeFor
	o.NoMigrate = !migrate || !cfg.Storage.Postgres.AutoMigrate
	st, err := postgres.Open(ctx, o)
	if errors.Is(err, postgres.ErrSchemaBehind) {
		why := "storage.postgres.auto_migrate is false"
		if !migrate {
			why = "this command does not change the schema"
		}
		return nil, fmt.Errorf("%w (%s): run `tsubasa db migrate` first", err, why)
	}
	return st, err
}

// PostgresOptions are the postgres backend's options from
// storage.postgres (the URL included), for the store and for the schema
// commands.
func PostgresOptions(cfg config.Config, log *slog.Logger) postgres.Options {
	pg := cfg.Storage.Postgres
	return postgres.Options{
		URL:              pg.URL,
		MaxConns:         int32(pg.MaxConns),
		StatementTimeout: pg.StatementTimeout,
		SSLMode:          pg.SSLMode,
		SSLRootCert:      pg.SSLRootCert,
		RevocationDelay:  pg.RevocationDelay,
		Logger:           log,
	}
}

// databaseName says where the data is, for logs and messages, without a
// password.
func databaseName(cfg config.Config) string {
	if cfg.UsesPostgres() {
		return "postgresql (storage.postgres.url)"
	}
	return cfg.Storage.Bolt.Path
}

// pinger is a store that can tell whether its database answers
// (postgres); others are probed with a read.
type pinger interface {
	Ping(ctx context.Context) error
}

// readyTimeout bounds /readyz's probe of the database: a load balancer
// must get an answer while the database hangs.
const readyTimeout = 2 * time.Second

// storeReady reports whether the database answers within readyTimeout.
func storeReady(ctx context.Context, st storage.Store) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if p, ok := st.(pinger); ok {
		return p.Ping(ctx)
	}
	if _, err := st.ClientByID(ctx, "\x00ready"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}
