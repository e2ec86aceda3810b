package adminhttp

import (
	"net/http"
	"strconv"

	"tsubasa/provider/clientaddr"
	"tsubasa/storage"
)

// EventCall is the audit event of every authenticated admin call.
const EventCall = "admin.call"

// audit stores the call's admin.call event: the client, the agent it
// named, the route, the outcome, and the member the call concerned. A
// change to a member is recorded under the member (its history shows who
// changed it); a read is not, so that the systems polling members never
// bury a member's own login history, and names the member in its detail.
func (c *call) audit(status int, problem string) error {
	d := map[string]string{
		"route":      c.rt.Method + " " + c.rt.Path,
		"op":         c.rt.Op,
		"status":     strconv.Itoa(status),
		"request_id": c.id,
	}
	for k, v := range map[string]string{"agent": c.agent, "job": c.job} {
		if v != "" {
			d[k] = v
		}
	}
	if c.replayed {
		d["replayed"] = "true"
	}
	e := storage.Event{Type: EventCall, ClientID: c.caller.ClientID, IP: clientaddr.From(c.r),
		UserAgent: boundedUA(c.r.UserAgent()), Success: status < 400, Reason: problem, Detail: d}
	if c.sub != nil && c.sub.MemberID != "" {
		d["member"] = c.sub.MemberID
		if c.rt.Method != http.MethodGet {
			e.MemberID = c.sub.MemberID
		}
	}
	return c.h.o.Audit.Record(c.ctx, e)
}
