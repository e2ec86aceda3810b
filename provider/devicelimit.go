package provider

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"tsubasa/provider/clientaddr"
	"tsubasa/storage"
)

// Each device authorization stores a grant for code_ttl, and a public
// client's id is no secret: anyone could fill the store with them. So the
// device authorization endpoint counts the requests of each client
// address in a sliding window (Options.DeviceMaxPerAddress per
// DeviceWindow), in storage (Throttles), so that the bound holds across
// replicas. The address is cmd's (Options.ClientAddr: the TCP peer, or
// what a trusted proxy says); an IPv6 client counts under its network
// (Options.IPv6Prefix), whose addresses it can rotate through.

// errDeviceLimit: the address is over its device authorizations.
var errDeviceLimit = errors.New("provider: device authorizations over the limit")

// admitDeviceAuthorization counts one device authorization from r's
// address; false, and how long to wait, when the address is over its
// limit. Without Options.ClientAddr every request is admitted.
func (p *Provider) admitDeviceAuthorization(ctx context.Context, r *http.Request) (time.Duration, bool) {
	if p.opts.ClientAddr == nil || p.opts.DeviceMaxPerAddress <= 0 {
		return 0, true
	}
	now, window, limit := p.now().UTC(), p.opts.DeviceWindow, p.opts.DeviceMaxPerAddress
	var retry time.Duration
	key := "device_authorization/ip/" + clientaddr.LimitKey(p.opts.ClientAddr(r), p.opts.IPv6Prefix)
	err := p.store.UpdateThrottles(ctx, now, []string{key},
		func(ts []storage.Throttle) ([]storage.Throttle, error) {
			var times []time.Time
			for _, t := range ts[0].Times {
				if t.After(now.Add(-window)) {
					times = append(times, t)
				}
			}
			if len(times) >= limit {
				retry = times[0].Add(window).Sub(now)
				return nil, errDeviceLimit
			}
			return []storage.Throttle{{Times: append(times, now), ExpiresAt: now.Add(window)}}, nil
		})
	switch {
	case errors.Is(err, errDeviceLimit):
		p.log.WarnContext(ctx, "device authorizations over the limit", "ip", p.opts.ClientAddr(r))
		return max(retry, time.Second), false
	case err != nil:
		// Failing closed: a store that cannot count lets nothing through.
		p.log.ErrorContext(ctx, "device authorization limit unavailable", "err", err)
		return time.Minute, false
	}
	return 0, true
}

// writeDeviceLimit answers a device authorization over the limit: 429
// with Retry-After, as a JSON error the device can read (slow_down, as
// RFC 8628 §3.5 names the same request at the token endpoint).
func writeDeviceLimit(w http.ResponseWriter, retry time.Duration) {
	secs := int((retry + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "slow_down",
		"too many device authorizations from this address: try again in "+strconv.Itoa(secs)+" seconds")
}
