package cli

import (
	"github.com/spf13/cobra"

	"tsubasa/cmd/tsubasa/internal/app"
)

func newServeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the identity provider",
		Long: `Run the identity provider. Without --config Tsubasa runs in development mode:
issuer http://localhost:8080, database under ./tsubasa-data/, a demo client and
member printed below, and a demo relying party at http://localhost:8080/demo/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			return app.Serve(cmd.Context(), cfg, g.stdout, g.stderr)
		},
	}
}
