package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List and rotate token signing keys",
		Long: `List and rotate the keys that sign ID tokens. Rotation adds a new active
key per algorithm; the old ones stop signing but stay published until every
token they signed has expired. Private keys are never shown.`,
	}
	p := addOutputFlag(cmd, g)
	show := func(keys []adminapi.KeyView) func(io.Writer) {
		return func(w io.Writer) {
			tw := table(w, "KID", "ALG", "STATUS", "CREATED", "RETIRED", "EXPIRES")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.Status,
					formatTime(k.CreatedAt), orDash(formatTime(k.RetiredAt)), orDash(formatTime(k.ExpiresAt)))
			}
			tw.Flush()
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List signing keys",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				out, err := call(cmd.Context(), g, adminapi.KeysList, adminapi.Empty{})
				if err != nil {
					return err
				}
				return p.print(out, show(out))
			},
		},
		&cobra.Command{
			Use:   "rotate",
			Short: "Rotate signing keys now",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				out, err := call(cmd.Context(), g, adminapi.KeysRotate, adminapi.Empty{})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) {
					fmt.Fprintln(w, "Rotated signing keys.")
					show(out)(w)
				})
			},
		},
	)
	return cmd
}
