package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema change, migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	sql     string
	sum     []byte // SHA-256 of sql, recorded when applied
}

// SchemaStatus is where a database's schema stands against this code.
type SchemaStatus struct {
	Current int         // the newest version applied; 0 for an empty database
	Latest  int         // the newest version this code knows
	Pending []Migration // known and not applied, oldest first
}

func (st SchemaStatus) String() string {
	return fmt.Sprintf("schema version %d of %d, %d pending", st.Current, st.Latest, len(st.Pending))
}

var (
	// ErrSchemaTooNew: the database was migrated by a newer Tsubasa. This
	// code must not write to it, since it does not know what changed.
	ErrSchemaTooNew = errors.New("postgres: the database schema is newer than this Tsubasa knows")
	// ErrSchemaBehind: migrations are pending and Open was told not to
	// apply them.
	ErrSchemaBehind = errors.New("postgres: the database schema has migrations pending")
)

// knownMigrations parses the embedded files once; their versions run from
// 1 without gaps.
var knownMigrations = sync.OnceValues(func() ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for i, p := range names { // Glob sorts: NNNN_ prefixes sort by version
		base := strings.TrimSuffix(path.Base(p), ".sql")
		num, name, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("postgres: migration %s: want version %d", p, i+1)
		}
		b, err := migrationFiles.ReadFile(p)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: name, sql: string(b), sum: sum[:]})
	}
	return out, nil
})

const (
	// migrateLockSQL serialises every starter of every replica: the lock
	// is held until the transaction that migrates commits, so replicas
	// starting together migrate once and the others find nothing pending.
	migrateLockSQL = "SELECT pg_advisory_xact_lock(hashtextextended('tsubasa schema migrations', 0))"
	migrationsSQL  = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   bytea NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`
	appliedSQL     = "SELECT version, checksum FROM schema_migrations ORDER BY version"
	recordSQL      = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"
	hasMigrations  = "SELECT to_regclass('schema_migrations') IS NOT NULL"
	noTimeoutSQL   = "SET LOCAL statement_timeout = 0"
	applyingLogMsg = "applying schema migration"
)

// Migrate applies the pending migrations to the database o.URL names, all
// in one transaction under an advisory lock, and returns the status
// before it did. It refuses a database newer than this code, or one whose
// applied migrations differ from the embedded ones.
func Migrate(ctx context.Context, o Options) (SchemaStatus, error) {
	conn, err := connect(ctx, o)
	if err != nil {
		return SchemaStatus{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrate(ctx, conn, o.withDefaults().Logger)
}

// ReadStatus reports the schema's status without changing anything.
func ReadStatus(ctx context.Context, o Options) (SchemaStatus, error) {
	conn, err := connect(ctx, o)
	if err != nil {
		return SchemaStatus{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return readStatus(ctx, conn)
}

func connect(ctx context.Context, o Options) (*pgx.Conn, error) {
	cfg, err := poolConfig(o.withDefaults())
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return conn, nil
}

// prepareSchema brings the schema up to date at Open, or with noMigrate
// checks that it is.
func prepareSchema(ctx context.Context, cfg *pgx.ConnConfig, noMigrate bool, log *slog.Logger) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if !noMigrate {
		_, err := migrate(ctx, conn, log)
		return err
	}
	st, err := readStatus(ctx, conn)
	if err == nil && len(st.Pending) > 0 {
		err = fmt.Errorf("%w: %s; apply them first (tsubasa db migrate)", ErrSchemaBehind, st)
	}
	return err
}

func migrate(ctx context.Context, conn *pgx.Conn, log *slog.Logger) (SchemaStatus, error) {
	var st SchemaStatus
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, sql := range []string{noTimeoutSQL, migrateLockSQL, migrationsSQL} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		var err error
		if st, err = compare(ctx, tx); err != nil {
			return err
		}
		for _, m := range st.Pending {
			log.Info(applyingLogMsg, "version", m.Version, "name", m.Name)
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			if step := migrationSteps[m.Version]; step != nil {
				if err := step(ctx, tx, log); err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
				}
			}
			if _, err := tx.Exec(ctx, recordSQL, m.Version, m.Name, m.sum); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrSchemaTooNew) {
		return st, fmt.Errorf("postgres: migrate: %w", err)
	}
	return st, err
}

func readStatus(ctx context.Context, conn *pgx.Conn) (SchemaStatus, error) {
	var exists bool
	if err := conn.QueryRow(ctx, hasMigrations).Scan(&exists); err != nil {
		return SchemaStatus{}, fmt.Errorf("postgres: schema status: %w", err)
	}
	if !exists {
		known, err := knownMigrations()
		if err != nil {
			return SchemaStatus{}, err
		}
		return SchemaStatus{Latest: len(known), Pending: known}, nil
	}
	return compare(ctx, conn)
}

// compare reads the applied versions and sets them against the known.
func compare(ctx context.Context, q querier) (SchemaStatus, error) {
	known, err := knownMigrations()
	if err != nil {
		return SchemaStatus{}, err
	}
	st := SchemaStatus{Latest: len(known)}
	rows, err := q.Query(ctx, appliedSQL)
	if err != nil {
		return st, fmt.Errorf("postgres: schema status: %w", err)
	}
	applied := map[int]bool{}
	for rows.Next() {
		var (
			v   int
			sum []byte
		)
		if err := rows.Scan(&v, &sum); err != nil {
			rows.Close()
			return st, fmt.Errorf("postgres: schema status: %w", err)
		}
		st.Current = max(st.Current, v)
		if v > len(known) {
			continue
		}
		if !bytes.Equal(sum, known[v-1].sum) {
			rows.Close()
			return st, fmt.Errorf("postgres: schema migration %d (%s) was applied from other SQL than this Tsubasa has: the database and the code disagree on the schema", v, known[v-1].Name)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("postgres: schema status: %w", err)
	}
	if st.Current > st.Latest {
		return st, fmt.Errorf("%w: the database is at version %d, this Tsubasa knows up to %d: run the newer Tsubasa, or restore a backup taken before it migrated",
			ErrSchemaTooNew, st.Current, st.Latest)
	}
	for _, m := range known {
		if !applied[m.Version] {
			st.Pending = append(st.Pending, m)
		}
	}
	return st, nil
}
