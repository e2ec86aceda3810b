package loginui

import (
	"errors"
	"net/http"
	"time"

	"tsubasa/provider/clientaddr"
	"tsubasa/storage"
)

// Entry limits of the device pages: every user code entered (at /device
// and /device/confirm, right or wrong) counts in a sliding window per
// client address (an IPv6 client: its network, DeviceOptions.IPv6Prefix)
// and in all. The counts are storage.Throttles, so they
// hold across replicas and restarts; the check and the count are one
// update. With the defaults (10 per address, 1000 in all, per 10 minutes)
// and 20^8 codes, 1000 live codes are found with a chance below 1 in
// 25,000 a window (1000 guesses × 1000 codes / 20^8), and one address
// tries 10 codes.

// errEntryLimit: the entry is over a limit and was not counted.
var errEntryLimit = errors.New("loginui: device entry limit")

// admit counts one entry from r's client address; false, and how long to
// wait, when a limit is reached.
func (f *deviceFeature) admit(r *http.Request) (time.Duration, bool) {
	now := f.u.now().UTC()
	keys := []string{"device/ip/" + clientaddr.LimitKey(clientIP(r), f.IPv6Prefix), "device/all"}
	limits := []int{f.MaxEntriesPerAddress, f.MaxEntriesGlobal}
	var retry time.Duration
	err := f.Store.UpdateThrottles(r.Context(), now, keys, func(ts []storage.Throttle) ([]storage.Throttle, error) {
		retry = 0
		out := make([]storage.Throttle, len(ts))
		for i, t := range ts {
			times := recent(t.Times, now.Add(-f.EntryWindow))
			if len(times) >= limits[i] {
				retry = max(retry, times[0].Add(f.EntryWindow).Sub(now))
			}
			out[i] = storage.Throttle{Times: append(times, now), ExpiresAt: now.Add(f.EntryWindow)}
		}
		if retry > 0 {
			return nil, errEntryLimit
		}
		return out, nil
	})
	switch {
	case errors.Is(err, errEntryLimit):
		f.u.log.WarnContext(r.Context(), "device code entries over the limit", "ip", clientIP(r))
		return max(retry, time.Second), false
	case err != nil:
		// Failing closed: a store that cannot count lets no code through.
		f.u.log.ErrorContext(r.Context(), "device entry limit unavailable", "err", err)
		return time.Minute, false
	}
	return 0, true
}

// recent returns the times after since (the list is oldest first), copied.
func recent(times []time.Time, since time.Time) []time.Time {
	out := make([]time.Time, 0, len(times)+1)
	for _, t := range times {
		if t.After(since) {
			out = append(out, t)
		}
	}
	return out
}
