package admin

import (
	"context"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
)

// listEvents returns a member's newest events, secrets in their detail
// redacted.
func (s *Service) listEvents(ctx context.Context, in adminapi.EventsInput) (adminapi.EventsOutput, error) {
	if in.Limit < 0 {
		return adminapi.EventsOutput{}, adminapi.Invalid("limit", "limit must not be negative")
	}
	if in.Limit == 0 {
		in.Limit = adminapi.DefaultEventsLimit
	}
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.EventsOutput{}, err
	}
	evs, err := s.store.ListEvents(ctx, m.ID, in.Limit)
	if err != nil {
		return adminapi.EventsOutput{}, err
	}
	out := adminapi.EventsOutput{Number: m.Number, Events: make([]adminapi.EventView, len(evs))}
	for i, e := range evs {
		out.Events[i] = adminapi.EventView{
			ID: e.ID, Time: e.Time, Type: e.Type, Success: e.Success, Reason: e.Reason, Method: e.Method,
			ClientID: e.ClientID, DeviceID: e.DeviceID, IP: e.IP, UserAgent: e.UserAgent,
			Detail: audit.Redact(e.Detail),
		}
	}
	return out, nil
}
