package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"tsubasa/storage"
)

// Worker defaults.
const (
	DefaultInterval    = 10 * time.Second
	DefaultMaxAttempts = 12
	DefaultBaseBackoff = 5 * time.Second
	DefaultMaxBackoff  = 30 * time.Minute
	DefaultSendTimeout = 30 * time.Second
	DefaultBatchSize   = 50
	DefaultRetention   = 30 * 24 * time.Hour
)

// maxBatchesPerRound bounds one RunOnce, so a store that keeps handing back
// the same messages (say, because updates fail) cannot spin the worker.
const maxBatchesPerRound = 10

// WorkerOptions tune an OutboxWorker; zero values take the defaults.
type WorkerOptions struct {
	Interval    time.Duration // how often to look for due messages
	MaxAttempts int           // tries before a message is marked failed
	BaseBackoff time.Duration // wait after the first failure, doubled per failure
	MaxBackoff  time.Duration // longest wait between tries
	SendTimeout time.Duration // bound on one delivery attempt
	BatchSize   int           // messages fetched per query
	// Retention is how long a sent or failed message is kept (its
	// ExpiresAt, after which the storage janitor deletes it); negative
	// keeps it forever.
	Retention time.Duration
	// Deliverers deliver the channels that are neither mail nor SMS, by
	// channel: an HTTP POST to an address a client registered (a
	// back-channel logout token: storage.ChannelBackchannelLogout). A
	// message of a channel without one fails for good.
	Deliverers map[string]Deliverer
	// DeadLetter, when set, is told of every message that failed for
	// good (attempts spent or a permanent error), once, after the record
	// says so: operators see it (an audit event, a metric).
	DeadLetter func(ctx context.Context, m OutboxMessage)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Deliverer delivers one outbox message of its channel. Its error is
// temporary (retried with backoff) unless it wraps ErrPermanent.
type Deliverer func(ctx context.Context, m OutboxMessage) error

// OutboxWorker delivers the durable outbox: it sends what is due, marks it
// sent, or schedules the next try with exponential backoff and jitter, and
// marks it failed after MaxAttempts or a permanent error. Sends happen one
// at a time on the worker's own goroutine with a per-message timeout, so a
// slow mail server delays only the outbox, never a login.
type OutboxWorker struct {
	store  OutboxStore
	mailer Mailer
	sms    SMSSender
	opts   WorkerOptions
	log    *slog.Logger
	kick   chan struct{}
	jitter func() float64
}

var (
	errNoMailer = errors.New("no mailer configured")
	errNoSMS    = errors.New("no SMS sender configured")
)

// NewOutboxWorker returns a worker over store. mailer or sms may be nil if
// that channel is not configured; its messages then fail like a server
// that is down, and are retried.
func NewOutboxWorker(store OutboxStore, mailer Mailer, sms SMSSender, opts WorkerOptions) *OutboxWorker {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = DefaultBaseBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.BaseBackoff)
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &OutboxWorker{
		store: store, mailer: mailer, sms: sms, opts: opts,
		log:    logger.With("component", "outbox"),
		kick:   make(chan struct{}, 1),
		jitter: rand.Float64,
	}
}

// Kick asks the worker to look for due messages now, typically right after
// something was enqueued. It never blocks.
func (w *OutboxWorker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers due messages every Interval and on every Kick until ctx
// ends, then returns nil. Any number of workers may run on one store, in
// one process or on several replicas: each claims what it sends.
func (w *OutboxWorker) Run(ctx context.Context) error {
	ticker := time.NewTicker(w.opts.Interval)
	defer ticker.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "outbox poll failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-w.kick:
		}
	}
}

// RunOnce delivers what is due now and reports how many messages it tried.
// The error is about reading the store; delivery outcomes are recorded on
// the messages.
//
// Messages are claimed (storage.Outbox.ClaimDueMessages), at most
// maxClaim at a time: a batch is this worker's until leaseUntil, and no
// other worker, in this process or another replica, gets it before then.
// A message is sent only while its lease leaves room for a whole try and
// its record (SendTimeout plus recordTime); the rest of a batch that a
// slow server left without that room is given back at once, for the next
// claim, by any worker.
func (w *OutboxWorker) RunOnce(ctx context.Context) (int, error) {
	tried := 0
	for range maxBatchesPerRound {
		now := w.opts.Now()
		leaseUntil := now.Add(w.lease())
		claim := min(w.opts.BatchSize, maxClaim)
		due, err := w.store.ClaimDueMessages(ctx, now, claim, leaseUntil)
		if err != nil {
			return tried, fmt.Errorf("notify: outbox: claiming due messages: %w", err)
		}
		for i, m := range due {
			if ctx.Err() != nil || w.opts.Now().Add(w.opts.SendTimeout+recordTime).After(leaseUntil) {
				w.giveBack(ctx, due[i:], leaseUntil)
				return tried, nil
			}
			w.deliver(ctx, m, leaseUntil)
			tried++
		}
		// A short batch was all that was due, unless sending it let
		// later messages of the same order key become claimable.
		if len(due) < claim && !ordered(due) {
			break
		}
	}
	return tried, nil
}

// ordered reports whether any of ms has an order key (storage.
// OutboxMessage.OrderKey): a message behind it may be due now.
func ordered(ms []OutboxMessage) bool {
	for _, m := range ms {
		if m.OrderKey != "" {
			return true
		}
	}
	return false
}

const (
	// recordTime bounds the write that records a try's outcome.
	recordTime = 10 * time.Second
	// leaseSlack is the part of a lease beyond one try and its record:
	// the time quick sends of a batch share.
	leaseSlack = 5 * time.Second
	// maxClaim bounds a batch claimed at once, so that what a slow
	// server makes the worker give back stays small.
	maxClaim = 10
)

// lease is how long a claimed batch is this worker's: room for one try
// and its record, and a little more for the quick sends of the rest of
// the batch. A worker that dies with messages claimed (a crash, a replica
// gone) delays them by at most this much, 45 s by default; another
// worker, or the same process restarted, sends them then.
func (w *OutboxWorker) lease() time.Duration {
	return w.opts.SendTimeout + recordTime + leaseSlack
}

// giveBack makes claimed messages that were not tried due again at once.
// A message whose lease is no longer this worker's (it ran out, and
// another worker claimed it) is left alone.
func (w *OutboxWorker) giveBack(ctx context.Context, ms []OutboxMessage, leaseUntil time.Time) {
	now := w.opts.Now()
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTime)
	defer cancel()
	for _, m := range ms {
		err := w.store.UpdateOutboxMessage(uctx, m.ID, func(old OutboxMessage) (OutboxMessage, error) {
			if old.State == StatePending && old.NextAttemptAt.Equal(leaseUntil) {
				old.NextAttemptAt = now
			}
			return old, nil
		})
		if err != nil {
			w.log.WarnContext(ctx, "outbox message not given back; due again when its lease ends",
				"message_id", m.ID, "lease_until", leaseUntil, "error", err)
		}
	}
}

func (w *OutboxWorker) deliver(ctx context.Context, m OutboxMessage, leaseUntil time.Time) {
	sendCtx, cancel := context.WithTimeout(ctx, w.opts.SendTimeout)
	sendErr := w.send(sendCtx, m)
	cancel()
	if sendErr != nil && ctx.Err() != nil {
		// Shutting down: this try does not count, and the message is due
		// again at once, for whichever worker runs next.
		w.giveBack(ctx, []OutboxMessage{m}, leaseUntil)
		return
	}
	now, jitter := w.opts.Now(), w.jitter()
	var result OutboxMessage
	// Record the outcome even if ctx ends now: a sent message that is not
	// marked sent would go out twice.
	uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), recordTime)
	defer ucancel()
	err := w.store.UpdateOutboxMessage(uctx, m.ID, func(old OutboxMessage) (OutboxMessage, error) {
		result = applyOutcome(old, sendErr, now, jitter, w.opts)
		return result, nil
	})
	attrs := []any{
		"message_id", m.ID, "channel", m.Channel, "purpose", m.Purpose, "attempt", result.Attempts,
	}
	switch {
	case err != nil:
		w.log.ErrorContext(ctx, "outbox update failed", append(attrs, "error", err, "send_error", errString(sendErr))...)
	case sendErr == nil:
		w.log.InfoContext(ctx, "outbox message sent", attrs...)
	case result.State == StateFailed:
		w.log.ErrorContext(ctx, "outbox message failed for good", append(attrs, "error", sendErr)...)
		if w.opts.DeadLetter != nil {
			w.opts.DeadLetter(ctx, result)
		}
	default:
		w.log.WarnContext(ctx, "outbox delivery failed, will retry",
			append(attrs, "error", sendErr, "next_attempt_at", result.NextAttemptAt)...)
	}
}

func (w *OutboxWorker) send(ctx context.Context, m OutboxMessage) error {
	switch m.Channel {
	case storage.ChannelEmail, ChannelMail:
		if w.mailer == nil {
			return errNoMailer
		}
		return w.mailer.Send(ctx, Message{
			To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Purpose: m.Purpose, Locale: m.Locale,
		})
	case ChannelSMS:
		if w.sms == nil {
			return errNoSMS
		}
		return w.sms.SendSMS(ctx, SMS{To: m.To, Body: m.Text, Purpose: m.Purpose, Locale: m.Locale})
	default:
		if d := w.opts.Deliverers[m.Channel]; d != nil {
			return d(ctx, m)
		}
		return Permanent(fmt.Errorf("unknown channel %q", m.Channel))
	}
}

// applyOutcome is the state machine of one record, kept pure because a
// store may call the update function more than once:
//
//	pending --sent--> sent
//	pending --temporary error, attempts < max--> pending (NextAttemptAt later)
//	pending --permanent error or attempts == max--> failed
//
// Sent and failed records get ExpiresAt = now + Retention so the janitor
// removes them (and the bodies they hold). Records no longer pending are
// left alone.
func applyOutcome(m OutboxMessage, sendErr error, now time.Time, jitter float64, o WorkerOptions) OutboxMessage {
	if m.State != StatePending {
		return m
	}
	m.Attempts++
	if sendErr == nil {
		m.State, m.SentAt, m.LastError = StateSent, now, ""
		m.ExpiresAt = retainUntil(now, o.Retention)
		return m
	}
	m.LastError = truncate(sendErr.Error(), 500)
	if IsPermanent(sendErr) || m.Attempts >= o.MaxAttempts {
		m.State = StateFailed
		m.ExpiresAt = retainUntil(now, o.Retention)
		return m
	}
	m.NextAttemptAt = now.Add(Backoff(m.Attempts, o.BaseBackoff, o.MaxBackoff, jitter))
	return m
}

// retainUntil is the ExpiresAt of a finished record; zero (keep) when
// retention is not positive.
func retainUntil(now time.Time, retention time.Duration) time.Time {
	if retention <= 0 {
		return time.Time{}
	}
	return now.Add(retention)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Back up to a rune boundary so the stored text stays valid UTF-8.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
