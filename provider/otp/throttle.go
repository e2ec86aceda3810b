package otp

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"tsubasa/provider/clientaddr"
	"tsubasa/storage"
)

// hour is the window of the hourly limits.
const hour = time.Hour

// limiter is the resend throttle: a minimum interval per member and
// purpose, and sliding hourly windows per member and per client address.
// Its state is three storage throttles (storage.Throttles), checked and
// counted in one update, so that every replica sees every send and
// concurrent resends cannot all pass:
//
//	otp/send/<member>/<purpose>  Last = the last send, Until = Last + interval,
//	                             or Until zero when that send's delivery failed
//	                             (the interval is waived for the next one)
//	otp/member/<member>          Times = sends in the last hour (the newest perHour)
//	otp/address/<network>        the same per client address: an IPv6 client
//	                             counts under its network (Options.IPv6Prefix,
//	                             clientaddr.LimitKey), an IPv4 one per address
//
// The interval also counts from the stored challenge (Issue passes its
// CreatedAt), which a used code does not hold up.
type limiter struct {
	store      storage.Throttles
	interval   time.Duration
	perHour    int
	ipv6Prefix int
	log        *slog.Logger
}

func newLimiter(store storage.Throttles, o Options) *limiter {
	return &limiter{store: store, interval: o.ResendInterval, perHour: o.ResendPerHour, ipv6Prefix: o.IPv6Prefix, log: o.Logger}
}

func slotKey(memberID, purpose string) string { return "otp/send/" + memberID + "/" + purpose }

// errWait aborts the update of a throttled send.
var errWait = errors.New("otp: resend throttled")

// reserve checks every limit for a send at now and, when none is hit,
// records the send. stored is when the member's current challenge for the
// purpose was created (zero when there is none, or it was used). It
// returns how long to wait, or 0 when the send may go ahead.
func (l *limiter) reserve(ctx context.Context, memberID, purpose, ip string, stored, now time.Time) (time.Duration, error) {
	keys := []string{slotKey(memberID, purpose), "otp/member/" + memberID}
	if ip != "" {
		keys = append(keys, "otp/address/"+clientaddr.LimitKey(ip, l.ipv6Prefix))
	}
	var wait time.Duration
	err := l.store.UpdateThrottles(ctx, now, keys, func(ts []storage.Throttle) ([]storage.Throttle, error) {
		wait = 0
		base := stored
		if slot := ts[0]; !slot.Last.IsZero() {
			if slot.Until.IsZero() {
				base = time.Time{} // the last send failed
			} else if slot.Last.After(base) {
				base = slot.Last
			}
		}
		if !base.IsZero() {
			wait = max(wait, base.Add(l.interval).Sub(now))
		}
		windows := make([][]time.Time, len(ts))
		for i := 1; i < len(ts); i++ {
			windows[i] = prune(ts[i].Times, now)
			wait = max(wait, l.windowWait(windows[i], now))
		}
		if wait > 0 {
			return nil, errWait
		}
		ts[0] = storage.Throttle{Last: now, Until: now.Add(l.interval), ExpiresAt: now.Add(l.interval)}
		for i := 1; i < len(ts); i++ {
			times := append(windows[i], now)
			times = times[max(0, len(times)-l.perHour):] // older ones decide nothing
			ts[i] = storage.Throttle{Times: times, ExpiresAt: now.Add(hour)}
		}
		return ts, nil
	})
	if errors.Is(err, errWait) {
		return wait, nil
	}
	return 0, err
}

// failed waives the interval for the next send of a member and purpose,
// after a delivery failure. The hourly counts keep the attempt.
func (l *limiter) failed(ctx context.Context, memberID, purpose string, now time.Time) {
	l.setSlot(ctx, memberID, purpose, now, storage.Throttle{Last: now, ExpiresAt: now.Add(l.interval)})
}

// used forgets the interval of a member and purpose once the code was
// entered: a used code should not hold up the next challenge.
func (l *limiter) used(ctx context.Context, memberID, purpose string, now time.Time) {
	l.setSlot(ctx, memberID, purpose, now, storage.Throttle{})
}

// setSlot replaces the interval's record. A failure only delays the next
// send (the interval stays), so it is logged, not returned.
func (l *limiter) setSlot(ctx context.Context, memberID, purpose string, now time.Time, t storage.Throttle) {
	err := l.store.UpdateThrottles(context.WithoutCancel(ctx), now, []string{slotKey(memberID, purpose)},
		func([]storage.Throttle) ([]storage.Throttle, error) { return []storage.Throttle{t}, nil })
	if err != nil {
		l.log.ErrorContext(ctx, "otp resend interval not updated", "member_id", memberID, "purpose", purpose, "error", err)
	}
}

// windowWait is how long until the window has room for one more send.
func (l *limiter) windowWait(ts []time.Time, now time.Time) time.Duration {
	if len(ts) < l.perHour {
		return 0
	}
	return ts[len(ts)-l.perHour].Add(hour).Sub(now)
}

// prune returns the times of ts still in the window: those less than an
// hour before now.
func prune(ts []time.Time, now time.Time) []time.Time {
	out := make([]time.Time, 0, len(ts)+1)
	for _, t := range ts {
		if t.Add(hour).After(now) {
			out = append(out, t)
		}
	}
	return out
}
