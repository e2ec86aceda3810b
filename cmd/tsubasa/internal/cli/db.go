package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"tsubasa/cmd/tsubasa/internal/app"
)

func newDBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "PostgreSQL schema: status and migrations",
		Long: `Report and apply the PostgreSQL schema's migrations (storage.postgres.url).
Replicas apply pending migrations at start unless storage.postgres.auto_migrate
is false; operators who migrate before a rollout run "tsubasa db migrate" first.
A replica refuses a schema newer than it knows. The embedded bbolt file needs no
migration.`,
	}
	p := addOutputFlag(cmd, g)
	show := func(s app.Schema) func(io.Writer) {
		return func(w io.Writer) {
			fmt.Fprintf(w, "Schema version %d of %d.\n", s.Current, s.Latest)
			if len(s.Pending) == 0 {
				fmt.Fprintln(w, "Up to date.")
				return
			}
			fmt.Fprintf(w, "%d pending: %s\n", len(s.Pending), strings.Join(s.Pending, ", "))
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "status",
			Short: "Show the schema version and the migrations pending",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				cfg, err := g.loadConfig()
				if err != nil {
					return err
				}
				st, err := app.SchemaStatus(cmd.Context(), cfg)
				if app.ErrNotPostgres(err) {
					fmt.Fprintln(g.stdout, err)
					return nil
				}
				if err != nil {
					return err
				}
				return p.print(st, show(st))
			},
		},
		&cobra.Command{
			Use:   "migrate",
			Short: "Apply the pending migrations (replicas may keep running)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				cfg, err := g.loadConfig()
				if err != nil {
					return err
				}
				before, err := app.MigrateSchema(cmd.Context(), cfg, g.stderr)
				if app.ErrNotPostgres(err) {
					fmt.Fprintln(g.stdout, err)
					return nil
				}
				if err != nil {
					return err
				}
				after := app.Schema{Current: before.Latest, Latest: before.Latest, Pending: []string{}}
				return p.print(after, func(w io.Writer) {
					if len(before.Pending) == 0 {
						fmt.Fprintf(w, "Nothing to apply: the schema is at version %d, the latest.\n", before.Current)
						return
					}
					fmt.Fprintf(w, "Applied %d migration(s): %s.\n", len(before.Pending), strings.Join(before.Pending, ", "))
					show(after)(w)
				})
			},
		},
	)
	return cmd
}
