package storage

import (
	"context"
	"time"
)

// SMSWindow is how far back SMSBudget counts: an SMS sent at t counts
// against the budget of every send in the minute of t and the 60 minutes
// after it, so it leaves the window 60 to 61 minutes after it was sent and
// no 60-minute span ever holds more than the limit.
const SMSWindow = time.Hour

// SMSMinute is the granularity of the count: backends keep one counter per
// minute (now truncated to the minute, in UTC).
const SMSMinute = time.Minute

// SMSBudget is the ceiling on SMS sent by the whole service, every replica
// and every member together, so that an SMS pumping attack spread over many
// accounts and addresses still has a bound. It lives in storage because it
// decides a security outcome and must hold across replicas.
type SMSBudget interface {
	// ReserveSMS counts one SMS at now, unless limit SMS are already
	// counted in the window of now (the minute of now and the 60 minutes
	// before it). It returns how many the window holds afterwards and
	// whether this one was counted. Check and count are one atomic step:
	// however many callers race, no more than limit are counted. A limit
	// of 0 or less counts nothing.
	ReserveSMS(ctx context.Context, now time.Time, limit int) (used int, ok bool, err error)
	// SMSCount returns how many SMS the window of now holds.
	SMSCount(ctx context.Context, now time.Time) (int, error)
}

// SMSWindowStart is the first minute counted in the window of now.
func SMSWindowStart(now time.Time) time.Time {
	return now.UTC().Truncate(SMSMinute).Add(-SMSWindow)
}
