package notify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
)

func TestDevOutboxKeepsNewest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		sends   int
		wantLen int
	}{
		{"empty", 3, 0, 0},
		{"under the limit", 3, 2, 2},
		{"exactly full", 3, 3, 3},
		{"wrapped", 3, 7, 3},
		{"default size", 0, DefaultDevOutboxSize + 5, DefaultDevOutboxSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mailer := NewOutboxMailer(tc.size, nil)
			sms := NewOutboxSMS(tc.size, nil)
			for i := range tc.sends {
				to := fmt.Sprintf("m%d", i)
				if err := mailer.Send(t.Context(), Message{To: to, Subject: "s", Text: "t", Purpose: "otp"}); err != nil {
					t.Fatal(err)
				}
				if err := sms.SendSMS(t.Context(), SMS{To: to, Body: "b"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, list := range [][]DevMessage{mailer.List(), sms.List()} {
				if len(list) != tc.wantLen {
					t.Fatalf("len = %d, want %d", len(list), tc.wantLen)
				}
				for i, m := range list {
					if want := fmt.Sprintf("m%d", tc.sends-1-i); m.To != want {
						t.Errorf("list[%d].To = %q, want %q (newest first)", i, m.To, want)
					}
				}
			}
			if tc.sends > 0 {
				if m := mailer.List()[0]; m.Channel != ChannelMail || m.Subject != "s" || m.Body != "t" || m.Time.IsZero() {
					t.Errorf("mail entry %+v", m)
				}
				if m := sms.List()[0]; m.Channel != ChannelSMS || m.Body != "b" {
					t.Errorf("sms entry %+v", m)
				}
			}
		})
	}
}

func TestDevOutboxHTMLOnlyMail(t *testing.T) {
	mailer := NewOutboxMailer(1, nil)
	if err := mailer.Send(t.Context(), Message{To: "a", HTML: "<p>x</p>"}); err != nil {
		t.Fatal(err)
	}
	if got := mailer.List()[0].Body; got != "<p>x</p>" {
		t.Errorf("Body = %q", got)
	}
}

func TestDevOutboxConcurrentAndQuiet(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	mailer := NewOutboxMailer(50, logger)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_ = mailer.Send(t.Context(), Message{To: fmt.Sprint(i), Subject: "code", Text: "otp code QUOKKA-SECRET", Purpose: "otp"})
			_ = mailer.List()
		})
	}
	wg.Wait()
	if n := len(mailer.List()); n != 50 {
		t.Errorf("len = %d, want 50", n)
	}
	mu.Lock()
	defer mu.Unlock()
	// A canary of letters: digits could turn up in the log's timestamps.
	if bytes.Contains(buf.Bytes(), []byte("QUOKKA-SECRET")) {
		t.Errorf("log leaks the body: %s", buf.String())
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"purpose":"otp"`)) {
		t.Errorf("log lacks purpose: %s", buf.String())
	}
}

func TestDevOutboxCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := NewOutboxSMS(1, nil).SendSMS(ctx, SMS{To: "x"}); err == nil {
		t.Error("want an error for a cancelled context")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
