package otp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// The cluster of the PostgreSQL tests is started on first use only.
func TestMain(m *testing.M) { pgtest.Main(m) }

// otpReplicas returns n Services on one PostgreSQL database, each with its
// own store, sharing the fixture's mailer, SMS sender and clock.
func otpReplicas(t *testing.T, n int, tweak func(*Options)) (*fixture, []*Service) {
	t.Helper()
	fx := newFixture(t, tweak)
	url := pgtest.NewDatabase(t, "")
	var svcs []*Service
	for range n {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: url, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		svc, err := NewService(st, fx.svc.mail, fx.svc.sms, fx.svc.render, fx.svc.o)
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	return fx, svcs
}

// issueOn sends n resends at once, spread over the replicas, from
// addresses chosen by ip, and counts those sent and those told to wait.
func issueOn(t *testing.T, svcs []*Service, n int, ip func(i int) string) (sent, waited int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := svcs[i%len(svcs)].Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin, IP: ip(i)})
			var rw *ResendWaitError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				sent++
			case errors.As(err, &rw):
				waited++
			default:
				t.Errorf("resend %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return sent, waited
}

// TestResendIntervalAcrossReplicas: twenty resends at once over three
// replicas send one code; the others wait for the interval.
func TestResendIntervalAcrossReplicas(t *testing.T) {
	fx, svcs := otpReplicas(t, 3, nil)
	sent, waited := issueOn(t, svcs, 20, func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) })
	if sent != 1 || waited != 19 {
		t.Fatalf("%d sent, %d told to wait; want 1 and 19", sent, waited)
	}
	if n := len(fx.smtp.Messages()); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
}

// TestHourlyLimitsAcrossReplicas: the hourly limits count every replica's
// sends, per member and per address.
func TestHourlyLimitsAcrossReplicas(t *testing.T) {
	fx, svcs := otpReplicas(t, 3, func(o *Options) { o.ResendPerHour, o.ResendInterval = 3, time.Second })
	total := 0
	for i := range 6 { // one a minute, each on the next replica
		sent, _ := issueOn(t, svcs[i%3:i%3+1], 1, func(int) string { return "203.0.113.7" })
		total += sent
		fx.clock.Advance(time.Minute)
	}
	if total != 3 {
		t.Fatalf("%d of 6 sends a minute apart over 3 replicas went out, want 3 (the hourly limit)", total)
	}
	// Another member from the same address: the address is spent too.
	m := hanako()
	m.ID = "m-taro"
	_, err := svcs[1].Issue(t.Context(), IssueRequest{Member: m, Purpose: PurposeLogin, IP: "203.0.113.7"})
	var rw *ResendWaitError
	if !errors.As(err, &rw) {
		t.Errorf("another member from the spent address: %v, want ResendWaitError", err)
	}
}
