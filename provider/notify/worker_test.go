package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"
	"tsubasa/storage"
	"tsubasa/storage/storagetest"
)

var errTemp = errors.New("451 try later")

// newTestWorker wires a worker to a memStore, a fake clock, fixed jitter
// and a JSON log captured in buf.
func newTestWorker(t *testing.T, mailer Mailer, sms SMSSender, opts WorkerOptions) (*OutboxWorker, *memStore, *storagetest.Clock, *bytes.Buffer) {
	t.Helper()
	store, clock := newMemStore(t), newFakeClock()
	var buf lockedBuffer
	opts.Now = clock.Now
	opts.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	w := NewOutboxWorker(store, mailer, sms, opts)
	w.jitter = func() float64 { return 0.5 }
	return w, store, clock, &buf.Buffer
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func alertRecord(now time.Time) OutboxMessage {
	return NewMailRecord(Message{
		To: "member@example.com", Subject: "Login from new device", Text: "secret-body-482915",
		HTML: "<p>secret-body-482915</p>", Purpose: "alert", Locale: "ja",
	}, now)
}

func TestWorkerDelivers(t *testing.T) {
	fake := &scriptMailer{}
	w, store, clock, logs := newTestWorker(t, fake, fake, WorkerOptions{})
	mail := store.add(alertRecord(clock.Now().Add(-time.Second))) // older, so sent first
	sms := store.add(NewSMSRecord(SMS{To: "+819012345678", Body: "secret-body-482915", Purpose: "alert"}, clock.Now()))

	n, err := w.RunOnce(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v; want 2, nil", n, err)
	}
	for _, id := range []string{mail.ID, sms.ID} {
		got := store.get(id)
		if got.State != StateSent || got.Attempts != 1 || !got.SentAt.Equal(clock.Now()) || got.LastError != "" {
			t.Errorf("record %+v, want sent on first attempt", got)
		}
	}
	if len(fake.sent) != 2 || fake.sent[0].HTML != "<p>secret-body-482915</p>" || fake.sent[1].Text != "secret-body-482915" {
		t.Errorf("sent %v", fake.sent)
	}
	out := logs.String()
	for _, want := range []string{`"message_id":"` + mail.ID, `"purpose":"alert"`, `"attempt":1`, `"channel":"sms"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "482915") || strings.Contains(out, "member@example.com") {
		t.Errorf("log leaks content:\n%s", out)
	}
}

func TestWorkerRetriesWithBackoff(t *testing.T) {
	fake := &scriptMailer{errs: []error{errTemp, errTemp}}
	w, store, clock, logs := newTestWorker(t, fake, nil, WorkerOptions{BaseBackoff: 10 * time.Second, MaxBackoff: time.Hour})
	m := store.add(alertRecord(clock.Now()))

	wantDelay := []time.Duration{
		Backoff(1, 10*time.Second, time.Hour, 0.5), // 7.5s
		Backoff(2, 10*time.Second, time.Hour, 0.5), // 15s
	}
	for attempt, delay := range wantDelay {
		if _, err := w.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := store.get(m.ID)
		if got.State != StatePending || got.Attempts != attempt+1 || got.LastError == "" {
			t.Fatalf("after attempt %d: %+v", attempt+1, got)
		}
		if want := clock.Now().Add(delay); !got.NextAttemptAt.Equal(want) {
			t.Fatalf("NextAttemptAt = %v, want %v", got.NextAttemptAt, want)
		}
		// Not due yet: nothing is tried.
		clock.Set(got.NextAttemptAt.Add(-time.Second))
		if n, _ := w.RunOnce(t.Context()); n != 0 {
			t.Fatalf("tried %d messages before they were due", n)
		}
		clock.Set(got.NextAttemptAt)
	}
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(m.ID); got.State != StateSent || got.Attempts != 3 || got.LastError != "" {
		t.Errorf("final %+v, want sent on attempt 3", got)
	}
	if !strings.Contains(logs.String(), `"next_attempt_at"`) {
		t.Errorf("retry log lacks next_attempt_at:\n%s", logs)
	}
}

func TestWorkerGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		errs      []error
		channel   string
		wantCalls int
	}{
		{name: "after max attempts", errs: []error{errTemp, errTemp, errTemp, errTemp}, wantCalls: 3},
		{name: "on a permanent error", errs: []error{Permanent(errors.New("550 no such user"))}, wantCalls: 1},
		{name: "on an unknown channel", channel: "pigeon", wantCalls: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &scriptMailer{errs: tc.errs}
			w, store, clock, _ := newTestWorker(t, fake, nil, WorkerOptions{MaxAttempts: 3})
			rec := alertRecord(clock.Now())
			if tc.channel != "" {
				rec.Channel = tc.channel
			}
			store.add(rec)
			for range 5 {
				if _, err := w.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				clock.Set(clock.Now().Add(time.Hour))
			}
			got := store.get(rec.ID)
			if got.State != StateFailed || got.LastError == "" {
				t.Errorf("record %+v, want failed with an error", got)
			}
			if fake.callCount() != tc.wantCalls {
				t.Errorf("%d sends, want %d", fake.callCount(), tc.wantCalls)
			}
		})
	}
}

func TestWorkerAcceptsMailChannelSpelling(t *testing.T) {
	fake := &scriptMailer{}
	w, store, clock, _ := newTestWorker(t, fake, nil, WorkerOptions{})
	rec := alertRecord(clock.Now())
	if rec.Channel != storage.ChannelEmail {
		t.Errorf("NewMailRecord channel %q, want %q", rec.Channel, storage.ChannelEmail)
	}
	rec.Channel = ChannelMail
	store.add(rec)
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(rec.ID); got.State != StateSent {
		t.Errorf("record %+v, want sent", got)
	}
}

func TestWorkerMissingSenderIsRetried(t *testing.T) {
	w, store, clock, _ := newTestWorker(t, nil, nil, WorkerOptions{})
	rec := store.add(NewSMSRecord(SMS{To: "+819012345678", Body: "x"}, clock.Now()))
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(rec.ID); got.State != StatePending || !strings.Contains(got.LastError, "no SMS sender") {
		t.Errorf("record %+v, want pending with a configuration error", got)
	}
}

func TestWorkerSMTPDownThenUp(t *testing.T) {
	srv := notifytest.NewSMTPServer(t)
	host, port := srv.Addr()
	mailer, err := NewSMTPMailer(SMTPOptions{Host: host, Port: port, TLS: TLSNone, From: "no-reply@example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w, store, clock, _ := newTestWorker(t, mailer, nil, WorkerOptions{})
	srv.Stop()
	rec := store.add(alertRecord(clock.Now()))

	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := store.get(rec.ID)
	if got.State != StatePending || got.Attempts != 1 || got.LastError == "" {
		t.Fatalf("while down: %+v", got)
	}

	srv.Start()
	clock.Set(got.NextAttemptAt)
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.get(rec.ID); got.State != StateSent || got.Attempts != 2 {
		t.Fatalf("after restart: %+v", got)
	}
	mail := srv.WaitFor(t, func(m notifytest.ReceivedMail) bool { return m.Subject == "Login from new device" }, 5*time.Second)
	if !strings.Contains(mail.Text, "secret-body-482915") {
		t.Errorf("text = %q", mail.Text)
	}
}

func TestWorkerSendTimeout(t *testing.T) {
	fake := &scriptMailer{block: true}
	w, store, clock, _ := newTestWorker(t, fake, nil, WorkerOptions{SendTimeout: 50 * time.Millisecond})
	rec := store.add(alertRecord(clock.Now()))
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := store.get(rec.ID)
	if got.State != StatePending || got.Attempts != 1 || !strings.Contains(got.LastError, "deadline") {
		t.Errorf("record %+v, want a counted, timed-out attempt", got)
	}
}

func TestWorkerShutdownMidSendDoesNotCount(t *testing.T) {
	fake := &scriptMailer{block: true}
	w, store, clock, _ := newTestWorker(t, fake, nil, WorkerOptions{SendTimeout: time.Minute})
	rec := store.add(alertRecord(clock.Now()))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for fake.callCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := store.get(rec.ID); got.State != StatePending || got.Attempts != 0 {
		t.Errorf("record %+v, want untouched", got)
	}
}

func TestWorkerBatches(t *testing.T) {
	fake := &scriptMailer{}
	w, store, clock, _ := newTestWorker(t, fake, nil, WorkerOptions{BatchSize: 2})
	for i := range 5 {
		store.add(alertRecord(clock.Now().Add(time.Duration(-i) * time.Second)))
	}
	n, err := w.RunOnce(t.Context())
	if err != nil || n != 5 || len(fake.sent) != 5 {
		t.Errorf("RunOnce = %d, %v; sent %d; want 5", n, err, len(fake.sent))
	}
}

func TestWorkerStoreError(t *testing.T) {
	w, store, _, _ := newTestWorker(t, &scriptMailer{}, nil, WorkerOptions{})
	store.dueErr = errors.New("disk on fire")
	if _, err := w.RunOnce(t.Context()); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

func TestWorkerRunKick(t *testing.T) {
	fake := &scriptMailer{}
	w, store, clock, _ := newTestWorker(t, fake, nil, WorkerOptions{Interval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	rec := store.add(alertRecord(clock.Now()))
	// The first pass may already have run; Kick must get the record out
	// well before the hour-long interval.
	deadline := time.Now().Add(10 * time.Second)
	for store.get(rec.ID).State != StateSent {
		if time.Now().After(deadline) {
			t.Fatal("Kick did not trigger a pass")
		}
		w.Kick()
		w.Kick() // never blocks, even when a kick is pending
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil on cancellation", err)
	}
}

func TestApplyOutcome(t *testing.T) {
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	opts := WorkerOptions{MaxAttempts: 3, BaseBackoff: 4 * time.Second, MaxBackoff: time.Minute}
	pending := OutboxMessage{ID: "m", State: StatePending, Attempts: 1}
	for _, tc := range []struct {
		name      string
		in        OutboxMessage
		err       error
		wantState string
		wantTries int
		wantNext  time.Time
	}{
		{"sent", pending, nil, StateSent, 2, time.Time{}},
		{"temporary", pending, errTemp, StatePending, 2, now.Add(Backoff(2, 4*time.Second, time.Minute, 0))},
		{"temporary at max", OutboxMessage{State: StatePending, Attempts: 2}, errTemp, StateFailed, 3, time.Time{}},
		{"permanent", pending, Permanent(errTemp), StateFailed, 2, time.Time{}},
		{"already sent", OutboxMessage{State: StateSent, Attempts: 1}, errTemp, StateSent, 1, time.Time{}},
		{"already failed", OutboxMessage{State: StateFailed, Attempts: 3}, nil, StateFailed, 3, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := applyOutcome(tc.in, tc.err, now, 0, opts)
			if got.State != tc.wantState || got.Attempts != tc.wantTries || !got.NextAttemptAt.Equal(tc.wantNext) {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestFinishedMessagesExpire(t *testing.T) {
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	pending := OutboxMessage{ID: "m", State: StatePending}
	for _, tc := range []struct {
		name      string
		err       error
		retention time.Duration
		want      time.Time
	}{
		{"sent", nil, DefaultRetention, now.Add(DefaultRetention)},
		{"failed", Permanent(errTemp), time.Hour, now.Add(time.Hour)},
		{"retried", errTemp, time.Hour, time.Time{}},
		{"kept", nil, -1, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := WorkerOptions{MaxAttempts: 3, BaseBackoff: time.Second, MaxBackoff: time.Minute, Retention: tc.retention}
			if got := applyOutcome(pending, tc.err, now, 0, opts); !got.ExpiresAt.Equal(tc.want) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tc.want)
			}
		})
	}
	if w := NewOutboxWorker(newMemStore(t), nil, nil, WorkerOptions{}); w.opts.Retention != DefaultRetention {
		t.Errorf("default retention %v", w.opts.Retention)
	}
}

func TestBackoff(t *testing.T) {
	base, maxDelay := 5*time.Second, 30*time.Minute
	for attempt := 1; attempt <= 12; attempt++ {
		full := min(base<<(attempt-1), maxDelay)
		for _, j := range []float64{0, 0.5, 0.999} {
			t.Run(fmt.Sprintf("attempt %d jitter %v", attempt, j), func(t *testing.T) {
				d := Backoff(attempt, base, maxDelay, j)
				if d < full/2 || d > full {
					t.Errorf("Backoff = %v, want within [%v, %v]", d, full/2, full)
				}
			})
		}
	}
	if d := Backoff(40, base, maxDelay, 1); d != maxDelay {
		t.Errorf("Backoff(40) = %v, want the cap %v", d, maxDelay)
	}
}
