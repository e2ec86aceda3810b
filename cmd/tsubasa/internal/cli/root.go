package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/config"
)

// Run executes the CLI with args (without the program name) and returns
// the process exit code: 0, 1 for a failure, 2 for a usage error. version
// is what `tsubasa version` prints.
func Run(args []string, stdout, stderr io.Writer, version string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(stdout, stderr, version)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "tsubasa:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ error }

// globals are the flags every subcommand shares.
type globals struct {
	configPath string
	remote     remoteFlags // --server and its credentials (remote.go)
	stdout     io.Writer
	stderr     io.Writer
	version    string
}

func newRootCmd(stdout, stderr io.Writer, version string) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr, version: version}
	root := &cobra.Command{
		Use:           "tsubasa",
		Short:         "Tsubasa: an OpenID Connect provider for loyalty-programme members",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("TSUBASA_CONFIG"),
		"YAML config file (env TSUBASA_CONFIG); without one Tsubasa runs in development mode")
	g.remote.register(root.PersistentFlags())
	root.AddCommand(
		newServeCmd(g),
		newClientCmd(g),
		newWebhookCmd(g),
		newMemberCmd(g),
		newKeysCmd(g),
		newVersionCmd(g),
		newBackupCmd(g), newRestoreCmd(g),
		newEventsCmd(g),
		newLoadtestCmd(g),
		newDBCmd(g),
		newMigrateStorageCmd(g),
	)
	return root
}

// loadConfig reads, completes and validates the configuration. Without a
// config file Tsubasa runs in development mode with working defaults.
func (g *globals) loadConfig() (config.Config, error) {
	cfg, err := config.Load(g.configPath, os.Environ())
	if err != nil {
		return cfg, err
	}
	if g.configPath == "" {
		cfg.Dev = true
	}
	if cfg.Dev {
		config.DevDefaults(&cfg)
	}
	if err := cfg.ValidateShipped(app.Shipped()); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(g.stdout, "tsubasa", g.version)
			return err
		},
	}
}
