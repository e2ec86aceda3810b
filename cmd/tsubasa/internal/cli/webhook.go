package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/webhook"
)

func newWebhookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Manage webhook subscriptions (member events for the back office)",
		Long: `Subscribe the back office's receivers to member events. Deliveries are
signed as Standard Webhooks do (webhook-id, webhook-timestamp,
webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">) with the
subscription's secret, shown once by "webhook add".

With a server running, commands go through its admin socket; otherwise they
open the database file directly.`,
	}
	p := addOutputFlag(cmd, g)
	var in adminapi.WebhookInput
	add := &cobra.Command{
		Use:   "add --url URL --event TYPE [--event TYPE…]",
		Short: "Subscribe a receiver; its signing secret is shown once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := call(cmd.Context(), g, adminapi.WebhookAdd, in)
			if err != nil {
				return err
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "Added webhook %s to %s for %s.\n\n", out.Webhook.ID, out.Webhook.URL, strings.Join(out.Webhook.Events, " "))
				fmt.Fprintf(w, "Signing secret: %s\n", out.Secret)
				fmt.Fprintln(w, "Store it now in the receiver: it is not shown again.")
			})
		},
	}
	add.Flags().StringVar(&in.URL, "url", "", "https URL of the receiver (required)")
	add.Flags().StringArrayVar(&in.Events, "event", nil, "event type to deliver (repeatable): "+strings.Join(webhook.EventTypes, ", "))
	_ = add.MarkFlagRequired("url")
	cmd.AddCommand(
		add,
		&cobra.Command{
			Use:   "list",
			Short: "List webhook subscriptions (never their secrets)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				out, err := call(cmd.Context(), g, adminapi.WebhookList, adminapi.Empty{})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) {
					tw := table(w, "ID", "URL", "EVENTS", "CREATED")
					for _, h := range out {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.ID, h.URL, strings.Join(h.Events, " "), formatTime(h.CreatedAt))
					}
					tw.Flush()
				})
			},
		},
		&cobra.Command{
			Use:   "remove ID",
			Short: "Remove a webhook subscription",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out, err := call(cmd.Context(), g, adminapi.WebhookRemove, adminapi.IDInput{ID: args[0]})
				if err != nil {
					return err
				}
				return p.print(out, func(w io.Writer) { fmt.Fprintf(w, "Removed webhook %s (%s).\n", out.ID, out.URL) })
			},
		},
	)
	return cmd
}
