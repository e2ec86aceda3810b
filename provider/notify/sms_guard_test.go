package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/storage/bolt"
)

// recordingSMS records what reaches the driver.
type recordingSMS struct {
	mu   sync.Mutex
	sent []SMS
	err  error
}

func (r *recordingSMS) SendSMS(_ context.Context, s SMS) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, s)
	return r.err
}

func (r *recordingSMS) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// guardEnv is a guard on a real bbolt budget with a settable clock, a
// recording driver, counting hooks and a captured log.
type guardEnv struct {
	g       *SMSGuard
	driver  *recordingSMS
	store   *bolt.Store
	now     time.Time
	log     bytes.Buffer
	mu      sync.Mutex
	counts  map[string]int
	reasons map[string]int
}

func newGuardEnv(t *testing.T, maxPerHour int) *guardEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "budget.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &guardEnv{driver: &recordingSMS{}, store: st, now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC),
		counts: map[string]int{}, reasons: map[string]int{}}
	inc := func(m map[string]int, k string) { e.mu.Lock(); m[k]++; e.mu.Unlock() }
	e.g, err = NewSMSGuard(e.driver, SMSGuardOptions{
		Policy: NewSMSPolicy([]string{"JP"}), Budget: st, MaxPerHour: maxPerHour,
		Hooks: SMSHooks{
			Sent:    func() { inc(e.counts, "sent") },
			Failed:  func() { inc(e.counts, "failed") },
			Refused: func(r string) { inc(e.reasons, r) },
			Warning: func() { inc(e.counts, "warning") },
		},
		Now:    func() time.Time { return e.now },
		Logger: slog.New(slog.NewTextHandler(&e.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *guardEnv) send(t *testing.T, to string) error {
	t.Helper()
	return e.g.SendSMS(t.Context(), SMS{To: to, Body: "[Tsubasa] 123456", Purpose: "otp", Locale: "ja"})
}

func TestSMSGuardRefusesDestinationsBeforeTheDriverAndTheBudget(t *testing.T) {
	e := newGuardEnv(t, 10)
	for _, to := range []string{"+447400123456", "+882161234567", "+449098765432", "+12025550123", "+81990123456", "+815012345678"} {
		err := e.send(t, to)
		if !errors.Is(err, ErrSMSDestination) || !IsPermanent(err) {
			t.Errorf("%s: error %v, want a permanent ErrSMSDestination", to, err)
		}
	}
	if n := e.driver.count(); n != 0 {
		t.Fatalf("%d refused SMS reached the driver", n)
	}
	if used, _ := e.g.Used(t.Context()); used != 0 {
		t.Errorf("refused SMS used %d of the budget", used)
	}
	want := map[string]int{SMSReasonCountry: 3, SMSReasonNonGeographic: 1, "premium_rate": 1, "voip": 1}
	for r, n := range want {
		if e.reasons[r] != n {
			t.Errorf("refusals for %s = %d, want %d (all: %v)", r, e.reasons[r], n, e.reasons)
		}
	}
	if strings.Contains(e.log.String(), "7400123456") || strings.Contains(e.log.String(), "2025550123") {
		t.Errorf("a refused number reached the log:\n%s", e.log.String())
	}
	if c := strings.Count(e.log.String(), "level=WARN"); c != 1 {
		t.Errorf("%d warn-level refusal lines for six refusals in an hour, want 1:\n%s", c, e.log.String())
	}
}

func TestSMSGuardBudgetCeilingWarningAndRecovery(t *testing.T) {
	e := newGuardEnv(t, 10)
	for i := range 10 {
		if err := e.send(t, "+819012345678"); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
		e.now = e.now.Add(time.Second)
	}
	for range 5 {
		if err := e.send(t, "+818012345678"); !errors.Is(err, ErrSMSBudget) || IsPermanent(err) {
			t.Fatalf("past the budget: %v, want the temporary ErrSMSBudget", err)
		}
	}
	if n := e.driver.count(); n != 10 {
		t.Errorf("%d SMS reached the driver, want the budget of 10", n)
	}
	if e.counts["sent"] != 10 || e.reasons[SMSReasonBudget] != 5 {
		t.Errorf("hooks: %v, refusals %v; want 10 sent, 5 refused for budget", e.counts, e.reasons)
	}
	// 80% of 10 is the 8th send: one warning, and one "spent" error,
	// however many sends reach each level.
	log := e.log.String()
	if strings.Count(log, "sms budget nearly spent") != 1 || e.counts["warning"] != 1 {
		t.Errorf("want one warning (hook %d):\n%s", e.counts["warning"], log)
	}
	if !strings.Contains(log, "sms_used=8") {
		t.Errorf("the warning does not come at the 8th send:\n%s", log)
	}
	if strings.Count(log, "sms budget spent") != 1 {
		t.Errorf("want one budget-spent error:\n%s", log)
	}
	if used, err := e.g.Used(t.Context()); err != nil || used != 10 {
		t.Errorf("Used = %d, %v; want 10", used, err)
	}

	// An hour and a minute later the window is empty again, and a new
	// window warns again.
	e.now = e.now.Add(time.Hour + time.Minute)
	for i := range 8 {
		if err := e.send(t, "+819012345678"); err != nil {
			t.Fatalf("next hour, send %d: %v", i+1, err)
		}
	}
	if strings.Count(e.log.String(), "sms budget nearly spent") != 2 {
		t.Errorf("a new hour at 80%% did not warn again:\n%s", e.log.String())
	}
}

// Sends from many goroutines (many members, many replicas sharing the
// store) never pass the ceiling.
func TestSMSGuardCeilingHoldsUnderConcurrency(t *testing.T) {
	e := newGuardEnv(t, 25)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { _ = e.send(t, "+819012345678") })
	}
	wg.Wait()
	if n := e.driver.count(); n != 25 {
		t.Errorf("%d SMS reached the driver, want 25", n)
	}
}

// A failed delivery still counts: the gateway may have sent it.
func TestSMSGuardCountsFailedDeliveries(t *testing.T) {
	e := newGuardEnv(t, 2)
	e.driver.err = Permanent(errors.New("gateway said no"))
	for range 2 {
		if err := e.send(t, "+819012345678"); err == nil {
			t.Fatal("the driver's error was lost")
		}
	}
	if err := e.send(t, "+819012345678"); !errors.Is(err, ErrSMSBudget) {
		t.Errorf("after two failed deliveries with a budget of 2: %v, want ErrSMSBudget", err)
	}
	if e.counts["failed"] != 2 || e.counts["sent"] != 0 {
		t.Errorf("hooks %v, want 2 failed", e.counts)
	}
}

// When the budget cannot be read, nothing is sent.
func TestSMSGuardFailsClosedWithoutItsBudget(t *testing.T) {
	e := newGuardEnv(t, 10)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	err := e.send(t, "+819012345678")
	if err == nil || errors.Is(err, ErrSMSBudget) || IsPermanent(err) {
		t.Errorf("with the store closed: %v, want a temporary storage error", err)
	}
	if e.driver.count() != 0 || e.reasons[SMSReasonBudgetDown] != 1 {
		t.Errorf("driver got %d, refusals %v", e.driver.count(), e.reasons)
	}
}

func TestNewSMSGuardReportsEveryProblem(t *testing.T) {
	_, err := NewSMSGuard(nil, SMSGuardOptions{WarnAt: 2})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"driver", "budget store", "at least 1", "warning level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from %v", want, err)
		}
	}
}
