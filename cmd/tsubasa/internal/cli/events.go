package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// eventsInput asks for a member's audit events.
type eventsInput struct {
	Number string `json:"number"`
	Limit  int    `json:"limit,omitempty"`
}

// eventView is an audit event as the admin API returns it.
type eventView struct {
	ID        string            `json:"id"`
	Time      time.Time         `json:"time"`
	Type      string            `json:"type"`
	Success   bool              `json:"success"`
	Reason    string            `json:"reason,omitempty"`
	Method    string            `json:"method,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	DeviceID  string            `json:"device_id,omitempty"`
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// eventsOutput is a member's events, newest first.
type eventsOutput struct {
	Number string      `json:"number"`
	Events []eventView `json:"events"`
}

// defaultEventsLimit is how many events `tsubasa events` shows unless told.
const defaultEventsLimit = 50

// listEvents returns a member's newest events (admin op events/list).
func (o *adminOps) listEvents(ctx context.Context, in eventsInput) (eventsOutput, error) {
	if in.Limit < 0 {
		return eventsOutput{}, invalid("limit", "limit must not be negative")
	}
	if in.Limit == 0 {
		in.Limit = defaultEventsLimit
	}
	m, err := o.memberByNumber(ctx, in.Number)
	if err != nil {
		return eventsOutput{}, err
	}
	evs, err := o.store.ListEvents(ctx, m.ID, in.Limit)
	if err != nil {
		return eventsOutput{}, err
	}
	out := eventsOutput{Number: m.Number, Events: make([]eventView, len(evs))}
	for i, e := range evs {
		out.Events[i] = eventView{
			ID: e.ID, Time: e.Time, Type: e.Type, Success: e.Success, Reason: e.Reason, Method: e.Method,
			ClientID: e.ClientID, DeviceID: e.DeviceID, IP: e.IP, UserAgent: e.UserAgent,
			Detail: audit.Redact(e.Detail),
		}
	}
	return out, nil
}

func (v eventView) event() storage.Event {
	return storage.Event{
		ID: v.ID, Time: v.Time, Type: v.Type, Success: v.Success, Reason: v.Reason, Method: v.Method,
		ClientID: v.ClientID, DeviceID: v.DeviceID, IP: v.IP, UserAgent: v.UserAgent, Detail: v.Detail,
	}
}

func newEventsCmd(g *globals) *cobra.Command {
	var in eventsInput
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
			var res eventsOutput
			if err := g.adminJSON(cmd.Context(), "events/list", in, &res); err != nil {
				return err
			}
			return out.print(res, func(w io.Writer) { printEvents(w, res, loc) })
		},
	}
	out = addOutputFlag(cmd, g)
	f := cmd.Flags()
	f.StringVar(&in.Number, "member", "", "member number (required)")
	f.IntVar(&in.Limit, "limit", defaultEventsLimit, "show at most this many events")
	_ = cmd.MarkFlagRequired("member")
	return cmd
}

func printEvents(w io.Writer, out eventsOutput, loc *time.Location) {
	if len(out.Events) == 0 {
		fmt.Fprintf(w, "No events for member %s.\n", out.Number)
		return
	}
	for _, v := range out.Events {
		fmt.Fprintln(w, audit.Format(v.event(), loc))
	}
}
