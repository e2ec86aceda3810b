package risk

import (
	"context"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/notify"
	"tsubasa/provider/notify/notifytest"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// newMailer is an SMTPMailer aimed at srv, plain text on loopback.
func newMailer(t *testing.T, srv *notifytest.SMTPServer) *notify.SMTPMailer {
	t.Helper()
	host, port := srv.Addr()
	m, err := notify.NewSMTPMailer(notify.SMTPOptions{
		Host: host, Port: port, TLS: notify.TLSNone, From: "Tsubasa <no-reply@example.com>", Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAlertDeliveredByOutboxWorker(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	srv := notifytest.NewSMTPServer(t)
	worker := notify.NewOutboxWorker(st, newMailer(t, srv), nil, notify.WorkerOptions{Interval: time.Hour})
	e, _ := newEngine(t, st, Options{Kick: worker.Kick})
	m := testMember("alice", "ja")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	defer func() { cancel(); <-done }()

	login(t, e, m, Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"})
	// The hour-long interval cannot be what delivers it: Kick does.
	got := srv.WaitFor(t, func(r notifytest.ReceivedMail) bool { return r.Subject == loginAlertSubject }, 10*time.Second)
	if len(got.To) != 1 || got.To[0] != m.Email {
		t.Errorf("sent to %v", got.To)
	}
	for _, want := range []string{"******321", "[Device] iPhone(mobile)", "[Browser] chrome", "(English version)"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("delivered text lacks %q", want)
		}
	}
	if !strings.Contains(got.HTML, "******321") {
		t.Error("delivered HTML lacks the masked number")
	}
}

// A mail server that is down when the member logs in neither slows nor
// fails the login; the alert waits in the outbox and goes out once the
// server is back.
func TestAlertSurvivesSMTPDown(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	srv := notifytest.NewSMTPServer(t)
	srv.Stop()
	e, clock := newEngine(t, st, Options{})
	worker := notify.NewOutboxWorker(st, newMailer(t, srv), nil, notify.WorkerOptions{
		Now: clock.Now, BaseBackoff: time.Second, MaxBackoff: time.Second, SendTimeout: 2 * time.Second,
	})
	m := testMember("alice", "en")

	start := time.Now()
	login(t, e, m, Environment{UserAgent: uaWindowsEdge, IP: "198.51.100.2"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("login took %v with the mail server down", d)
	}
	msgs, err := st.DueMessages(t.Context(), clock.Now(), 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("due = %v, %v", msgs, err)
	}
	id := msgs[0].ID

	// The worker tries while the server is down: the alert stays pending.
	if n, err := worker.RunOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	msg, err := st.OutboxMessageByID(t.Context(), id)
	if err != nil || msg.State != storage.OutboxPending || msg.Attempts != 1 || msg.LastError == "" {
		t.Fatalf("after a failed try: %+v, %v", msg, err)
	}

	// A restart loses nothing: reopen the database file and carry on.
	path := st.Path()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st2.Close() })
	worker = notify.NewOutboxWorker(st2, newMailer(t, srv), nil, notify.WorkerOptions{Now: clock.Now})

	srv.Start()
	clock.Advance(time.Minute) // past the backoff
	if n, err := worker.RunOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("RunOnce after restart = %d, %v", n, err)
	}
	got := srv.WaitFor(t, func(r notifytest.ReceivedMail) bool { return r.Subject == loginAlertSubject }, 10*time.Second)
	if !strings.HasPrefix(got.Text, "*日本語は英語の後に記載しています。") || !strings.Contains(got.Text, "Windows(desktop)") {
		t.Errorf("delivered text:\n%s", got.Text)
	}
	msg, err = st2.OutboxMessageByID(t.Context(), id)
	if err != nil || msg.State != storage.OutboxSent || msg.Attempts != 2 ||
		!msg.ExpiresAt.Equal(clock.Now().Add(notify.DefaultRetention)) {
		t.Errorf("after delivery: %+v, %v", msg, err)
	}
}
