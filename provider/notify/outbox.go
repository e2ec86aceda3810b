package notify

import (
	"context"
	"crypto/rand"
	"time"

	"tsubasa/storage"
)

// Outbox record states, as storage spells them.
const (
	StatePending = storage.OutboxPending
	StateSent    = storage.OutboxSent
	StateFailed  = storage.OutboxFailed
)

// OutboxMessage is one durable notification waiting for, or done with,
// delivery: the storage record itself, so the worker runs on any backend's
// Outbox without conversion. Mail records carry storage.ChannelEmail (the
// older ChannelMail spelling is delivered as mail too), SMS records
// ChannelSMS.
type OutboxMessage = storage.OutboxMessage

// OutboxStore is the part of storage the worker needs.
type OutboxStore interface {
	// ClaimDueMessages returns up to limit pending messages whose
	// NextAttemptAt is not after now, oldest first, and moves their
	// NextAttemptAt to leaseUntil in the same step, so that no other
	// worker gets them before then (storage.Outbox).
	ClaimDueMessages(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]OutboxMessage, error)
	// UpdateOutboxMessage applies fn to the stored record; fn may run more
	// than once and must be pure.
	UpdateOutboxMessage(ctx context.Context, id string, fn func(OutboxMessage) (OutboxMessage, error)) error
}

// NewMailRecord makes a pending outbox record for m, due at now. The body
// is stored as is, so mail that carries a one-time password must be sent
// directly and not through the outbox.
func NewMailRecord(m Message, now time.Time) OutboxMessage {
	return OutboxMessage{
		ID: rand.Text(), Channel: storage.ChannelEmail, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		Purpose: m.Purpose, Locale: m.Locale, NextAttemptAt: now, CreatedAt: now, State: StatePending,
	}
}

// NewSMSRecord makes a pending outbox record for s, due at now.
func NewSMSRecord(s SMS, now time.Time) OutboxMessage {
	return OutboxMessage{
		ID: rand.Text(), Channel: ChannelSMS, To: s.To, Text: s.Body,
		Purpose: s.Purpose, Locale: s.Locale, NextAttemptAt: now, CreatedAt: now, State: StatePending,
	}
}

// Backoff is the wait after the given failed attempt (1 for the first):
// base doubled per attempt, capped at maxDelay, then spread by jitter, a number
// in [0,1), over the upper half of that range so that many messages that
// failed together do not all come back at once.
func Backoff(attempt int, base, maxDelay time.Duration, jitter float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return d/2 + time.Duration(jitter*float64(d/2))
}
