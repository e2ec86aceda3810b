package adminhttp

import (
	"context"
	"math"
	"net/http"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage"
)

// The rate limit per client is a generic cell rate algorithm (GCRA): the
// client's throttle record holds one time, when its budget is full again
// (the theoretical arrival time, TAT). A request is admitted when that is
// at most Burst intervals ahead of now, and moves it one interval on. It
// is exact, smooth, costs one small record per client, and, since the
// record is storage's (Throttles), holds across every replica.

func throttleKey(clientID string) string { return "admin/client/" + clientID }

// admit counts a request of clientID against its rate, and returns false
// with the answer to give when it is over it. A failure to count refuses
// the request: a limit that cannot be checked is not lifted.
func (h *handler) admit(ctx context.Context, r *http.Request, id, clientID string) (answer, bool) {
	interval := time.Second / time.Duration(h.o.RateLimit)
	tolerance := interval * time.Duration(h.o.Burst)
	now := h.o.Now()
	var wait time.Duration
	err := h.o.Store.UpdateThrottles(ctx, now, []string{throttleKey(clientID)}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
		t := ts[0]
		tat := t.Until
		if tat.Before(now) {
			tat = now
		}
		next := tat.Add(interval)
		if wait = next.Sub(now) - tolerance; wait > 0 {
			return ts, nil // refused: nothing counted
		}
		t.Until, t.ExpiresAt = next, next
		return []storage.Throttle{t}, nil
	})
	if err != nil {
		h.log.ErrorContext(ctx, "admin call: rate limit not checked", "client_id", clientID, "error", err)
		return problem(adminapi.ProblemInternal, r, id, "the rate limit could not be checked; see the server log, request_id %s", id), false
	}
	if wait > 0 {
		a := problem(adminapi.ProblemRateLimited, r, id, "this client made more than %d requests a second (burst %d); retry later",
			h.o.RateLimit, h.o.Burst)
		return a.withRetryAfter(int(math.Ceil(wait.Seconds()))), false
	}
	return answer{}, true
}
