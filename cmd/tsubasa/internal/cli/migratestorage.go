package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"tsubasa/cmd/tsubasa/internal/app"
)

func newMigrateStorageCmd(g *globals) *cobra.Command {
	var from, to, secretOut string
	cmd := &cobra.Command{
		Use:   "migrate-storage --from bolt PATH --to postgres [URL]",
		Short: "Copy a bbolt database into an empty PostgreSQL database",
		Long: `Copy every record of the bbolt file PATH (members and their credentials,
passkeys, clients, signing keys, secrets, sessions, devices, consents, tokens
and revocations, one-time passwords, events, the outbox, the SMS counters) into
an empty PostgreSQL database, then compare the counts of every kind. Logins in
progress (authorization requests and codes) are not copied: members whose login
was cut start it again.

The server using PATH must be stopped (its lock is checked, and no server can
start on PATH during the copy). The PostgreSQL database must be empty; its
schema is created. URL defaults to storage.postgres.url (or url_file) of the
config, which keeps the password off the command line; storage.postgres's other
settings (sslmode, sslrootcert …) apply either way.

If the bolt server generated its master secret (it ran without secret or
secret_file), the replicas need it in secret_file: --secret-out FILE writes it
there (mode 0600). It is never copied into PostgreSQL.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			mv, err := storageMove(from, to, args)
			if err != nil {
				return err
			}
			mv.SecretOut = secretOut
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			return app.MigrateStorage(cmd.Context(), cfg, mv, g.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the backend to copy from: bolt (followed by the file's path)")
	f.StringVar(&to, "to", "", "the backend to copy into: postgres (followed by its URL, or none for the config's)")
	f.StringVar(&secretOut, "secret-out", "", "write a generated master secret to this new file, for secret_file")
	return cmd
}

// storageMove reads "--from bolt PATH --to postgres [URL]": cobra leaves
// PATH and URL as arguments, in either order of the flags; the URL is the
// one with a postgres scheme.
func storageMove(from, to string, args []string) (app.StorageMove, error) {
	var mv app.StorageMove
	if from != "bolt" || to != "postgres" {
		return mv, usageError{errors.New("usage: tsubasa migrate-storage --from bolt PATH --to postgres [URL] (bolt into PostgreSQL is the one move)")}
	}
	for _, a := range args {
		isURL := strings.HasPrefix(a, "postgres://") || strings.HasPrefix(a, "postgresql://")
		switch {
		case isURL && mv.PostgresURL == "":
			mv.PostgresURL = a
		case !isURL && mv.BoltPath == "":
			mv.BoltPath = a
		default:
			return mv, usageError{fmt.Errorf("migrate-storage: unexpected argument %d: want one bolt PATH and at most one postgres:// URL", len(args))}
		}
	}
	if mv.BoltPath == "" {
		return mv, usageError{errors.New("migrate-storage: --from bolt needs the database file's PATH")}
	}
	return mv, nil
}
