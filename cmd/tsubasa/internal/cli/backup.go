package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"tsubasa/cmd/tsubasa/internal/adminsock"
	"tsubasa/cmd/tsubasa/internal/backup"
)

func newBackupCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the database to FILE",
		Long: `Write a consistent copy of the database to FILE (mode 0600). With a server
running, the copy streams through its admin socket while it keeps serving
(one read transaction: a snapshot of one moment); otherwise the file is
opened read-only. The copy is written to FILE.tmp, synced, verified and then
renamed to FILE, so FILE is never half-written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("--out FILE is required")}
			}
			if err := g.remote.local("backup"); err != nil {
				return err
			}
			return g.backup(cmd.Context(), out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the backup to")
	return cmd
}

func newRestoreCmd(g *globals) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Replace the database with a backup (server stopped)",
		Long: `Replace the database with the backup FILE. The server must be stopped: the
command refuses while a server answers on the admin socket or holds the
database file's lock. FILE must verify as a complete Tsubasa database before
anything is replaced; the previous database is kept as <database>.bak.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError{errors.New("--from FILE is required")}
			}
			if err := g.remote.local("restore"); err != nil {
				return err
			}
			return g.restore(cmd.Context(), from)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "backup file to restore")
	return cmd
}

// errPostgresBackup is what backup and restore answer on PostgreSQL: the
// database is the operator's, and PostgreSQL's own tools copy it
// consistently while the replicas run.
var errPostgresBackup = errors.New("storage.postgres.url is set: Tsubasa does not back up or restore PostgreSQL itself. " +
	"Use PostgreSQL's tools: pg_dump (a consistent logical copy while the replicas run; pg_restore or psql to restore it), " +
	"or pg_basebackup with WAL archiving for point-in-time recovery (PITR). See \"Several replicas on PostgreSQL\" in README.md")

func (g *globals) backup(ctx context.Context, out string) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if cfg.UsesPostgres() {
		return errPostgresBackup
	}
	how := "through the running server"
	n, err := backup.Write(ctx, out, func(w io.Writer) (int64, error) {
		if c, ok := adminsock.Dial(cfg.AdminSocket()); ok {
			return backup.Through(ctx, c, w)
		}
		how = "directly from " + cfg.Storage.Bolt.Path
		return backup.Direct(ctx, cfg.Storage.Bolt.Path, cfg.AdminSocket(), w)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Backed up %d bytes to %s (%s).\n", n, out, how)
	return nil
}

// restore replaces the database with the backup from; the server must be
// stopped.
func (g *globals) restore(ctx context.Context, from string) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if cfg.UsesPostgres() {
		return errPostgresBackup
	}
	if _, ok := adminsock.Dial(cfg.AdminSocket()); ok {
		return fmt.Errorf("restore: a server answers on the admin socket %s; stop it first", cfg.AdminSocket())
	}
	path := cfg.Storage.Bolt.Path
	bak, kept, err := backup.Restore(ctx, path, from)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Restored %s to %s.\n", from, path)
	if kept {
		fmt.Fprintf(g.stdout, "The previous database is kept as %s.\n", bak)
	}
	return nil
}
