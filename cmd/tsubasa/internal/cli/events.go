package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// event is v as the audit package prints it.
func event(v adminapi.EventView) storage.Event {
	return storage.Event{
		ID: v.ID, Time: v.Time, Type: v.Type, Success: v.Success, Reason: v.Reason, Method: v.Method,
		ClientID: v.ClientID, DeviceID: v.DeviceID, IP: v.IP, UserAgent: v.UserAgent, Detail: v.Detail,
	}
}

func newEventsCmd(g *globals) *cobra.Command {
	var in adminapi.EventsInput
	var out *printer
	cmd := &cobra.Command{
		Use:   "events --member NUMBER [--limit N] [--json]",
		Short: "Show a member's security events (logins, alerts, revocations …)",
		Long: `Show a member's audit events, newest first: logins and failed logins with
device and IP, alerts queued, sessions revoked, "this wasn't me" reports and
more. Times are in alerts.time_zone. With a server running, the command goes
through its admin socket; otherwise it opens the database file directly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			loc, err := cfg.Alerts.Location()
			if err != nil {
				return err
			}
			res, err := call(cmd.Context(), g, adminapi.EventsList, in)
			if err != nil {
				return err
			}
			return out.print(res, func(w io.Writer) { printEvents(w, res, loc) })
		},
	}
	out = addOutputFlag(cmd, g)
	f := cmd.Flags()
	f.StringVar(&in.Number, "member", "", "member number (required)")
	f.IntVar(&in.Limit, "limit", adminapi.DefaultEventsLimit, "show at most this many events")
	_ = cmd.MarkFlagRequired("member")
	return cmd
}

func printEvents(w io.Writer, out adminapi.EventsOutput, loc *time.Location) {
	if len(out.Events) == 0 {
		fmt.Fprintf(w, "No events for member %s.\n", out.Number)
		return
	}
	for _, v := range out.Events {
		fmt.Fprintln(w, audit.Format(event(v), loc))
	}
}
