package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"tsubasa/storage"
)

// ErrSMSBudget: the service's hourly SMS budget (sms.max_per_hour) is
// spent. It is temporary: sends resume as older ones leave the hour. Offer
// the member another channel.
var ErrSMSBudget = errors.New("notify: the hourly SMS budget is spent")

// SMSHooks report what an SMSGuard does, for metrics. Nil fields are
// skipped. They run on the sending goroutine and must not block.
type SMSHooks struct {
	Sent    func()              // the driver accepted the SMS
	Failed  func()              // the driver was given the SMS and failed
	Refused func(reason string) // refused before the driver; one of SMSRefusalReasons
	Warning func()              // the budget reached its warning level (at most once an hour per process)
}

// SMSGuardOptions configure an SMSGuard. Zero fields take the defaults in
// brackets.
type SMSGuardOptions struct {
	Policy     SMSPolicy         // which numbers may receive SMS; the zero value refuses all
	Budget     storage.SMSBudget // required: the shared count
	MaxPerHour int               // required, at least 1: the ceiling for the whole service
	WarnAt     float64           // share of MaxPerHour that logs a warning [0.8]
	Hooks      SMSHooks
	Now        func() time.Time
	Logger     *slog.Logger // default: discard
}

// SMSGuard is the one door every SMS goes through: cmd wraps the driver in
// it, and both the one-time passwords and the outbox worker send through
// the wrapped driver, so no path can skip it. For each SMS it checks the
// destination against the Policy, then reserves one SMS of the hourly
// budget in storage (shared by every replica), and only then hands the
// SMS to the driver. Refusals happen before anything leaves.
//
// A reservation counts the attempt, whether the driver then succeeds or
// not: a gateway that fails after delivering would otherwise let the
// ceiling be passed. When the budget cannot be read the SMS is refused:
// the ceiling fails closed.
//
// The warning log at WarnAt of the budget, and the error log when it is
// spent, come at most once an hour from each process, however many sends
// reach them; the hooks count every one.
type SMSGuard struct {
	next   SMSSender
	o      SMSGuardOptions
	warnAt int

	mu          sync.Mutex
	warned      time.Time // last warning log
	exhausted   time.Time // last "budget spent" log
	destination time.Time // last refused-destination log at warn level
}

var _ SMSSender = (*SMSGuard)(nil)

// NewSMSGuard wraps next.
func NewSMSGuard(next SMSSender, o SMSGuardOptions) (*SMSGuard, error) {
	var errs []error
	if next == nil {
		errs = append(errs, errors.New("an SMS driver is required"))
	}
	if o.Budget == nil {
		errs = append(errs, errors.New("a budget store is required"))
	}
	if o.MaxPerHour < 1 {
		errs = append(errs, errors.New("the hourly SMS budget must be at least 1"))
	}
	if o.WarnAt == 0 {
		o.WarnAt = 0.8
	}
	if o.WarnAt < 0 || o.WarnAt > 1 {
		errs = append(errs, errors.New("the warning level must be a share from 0 to 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("notify: sms guard: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	warnAt := max(1, int(math.Ceil(o.WarnAt*float64(o.MaxPerHour))))
	return &SMSGuard{next: next, o: o, warnAt: warnAt}, nil
}

// Limit is the hourly budget.
func (g *SMSGuard) Limit() int { return g.o.MaxPerHour }

// Used is how many SMS the budget holds now, across every replica.
func (g *SMSGuard) Used(ctx context.Context) (int, error) {
	return g.o.Budget.SMSCount(ctx, g.o.Now())
}

// SendSMS checks s.To, reserves one SMS of the budget and sends s.
// Errors: *SMSDestinationError (permanent), ErrSMSBudget (temporary), a
// budget store error (temporary), or the driver's.
func (g *SMSGuard) SendSMS(ctx context.Context, s SMS) error {
	if err := g.o.Policy.Check(s.To); err != nil {
		var de *SMSDestinationError
		if errors.As(err, &de) {
			g.refused(de.Reason)
			g.logDestination(ctx, s, de)
		}
		return err
	}
	now := g.o.Now()
	used, ok, err := g.o.Budget.ReserveSMS(ctx, now, g.o.MaxPerHour)
	if err != nil {
		g.refused(SMSReasonBudgetDown)
		g.o.Logger.ErrorContext(ctx, "sms budget unavailable; sms refused", "purpose", s.Purpose, "error", err)
		return fmt.Errorf("notify: sms budget: %w", err)
	}
	if !ok {
		g.refused(SMSReasonBudget)
		if g.once(&g.exhausted, now) {
			g.o.Logger.ErrorContext(ctx, "sms budget spent: sms refused until older ones leave the hour",
				"sms_used", used, "sms_max_per_hour", g.o.MaxPerHour, "purpose", s.Purpose)
		}
		return ErrSMSBudget
	}
	if used >= g.warnAt && g.once(&g.warned, now) {
		g.o.Logger.WarnContext(ctx, "sms budget nearly spent", "sms_used", used, "sms_max_per_hour", g.o.MaxPerHour,
			"warn_at", g.warnAt)
		if g.o.Hooks.Warning != nil {
			g.o.Hooks.Warning()
		}
	}
	if err := g.next.SendSMS(ctx, s); err != nil {
		if g.o.Hooks.Failed != nil {
			g.o.Hooks.Failed()
		}
		return err
	}
	if g.o.Hooks.Sent != nil {
		g.o.Hooks.Sent()
	}
	return nil
}

func (g *SMSGuard) refused(reason string) {
	if g.o.Hooks.Refused != nil {
		g.o.Hooks.Refused(reason)
	}
}

// logDestination logs a refused number without the number: at warn level
// once an hour (a flood of them is an attack, and the metric counts each),
// at info level otherwise.
func (g *SMSGuard) logDestination(ctx context.Context, s SMS, de *SMSDestinationError) {
	level := slog.LevelInfo
	if g.once(&g.destination, g.o.Now()) {
		level = slog.LevelWarn
	}
	g.o.Logger.Log(ctx, level, "sms refused: destination not allowed", "reason", de.Reason, "region", de.Region,
		"purpose", s.Purpose)
}

// once reports whether the last time *last was set is an hour or more ago
// (or never), and sets it to now if so.
func (g *SMSGuard) once(last *time.Time, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !last.IsZero() && now.Sub(*last) < storage.SMSWindow {
		return false
	}
	*last = now
	return true
}
