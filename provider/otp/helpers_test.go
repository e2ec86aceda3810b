package otp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/notify"
	"tsubasa/provider/notify/notifytest"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/storagetest"
)

func newClock() *storagetest.Clock {
	return storagetest.NewClock(time.Date(2024, 3, 7, 9, 0, 0, 0, time.UTC))
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	svc   *Service
	store *bolt.Store
	clock *storagetest.Clock
	smtp  *notifytest.SMTPServer
	sms   *notifytest.SMSWebhook
	logs  *syncBuffer
}

// newFixture returns a Service on a fresh bolt store, sending mail to a
// real SMTP server and SMS to a webhook, with a test clock and every log
// line captured; tweak adjusts the options first.
func newFixture(t testing.TB, tweak func(*Options)) *fixture {
	t.Helper()
	fx := &fixture{store: bolttest.Open(t, bolt.Options{}), clock: newClock(), logs: &syncBuffer{}}
	fx.smtp = notifytest.NewSMTPServer(t)
	host, port := fx.smtp.Addr()
	mailer, err := notify.NewSMTPMailer(notify.SMTPOptions{
		Host: host, Port: port, TLS: notify.TLSNone, From: "Tsubasa <no-reply@tsubasa.example>", Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.sms = notifytest.NewSMSWebhook(t)
	sender, err := notify.NewWebhookSender(fx.sms.URL(), "token", fx.sms.Client())
	if err != nil {
		t.Fatal(err)
	}
	r, err := notify.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		HMACKey: bytes.Repeat([]byte{7}, 32), Brand: "Sora Miles", Now: fx.clock.Now,
		Logger: slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&o)
	}
	fx.svc, err = NewService(fx.store, mailer, sender, r, o)
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// hanako is a member resident in Japan with a verified address and number.
func hanako() storage.Member {
	return storage.Member{
		ID: "m-hanako", Number: "1234567", Email: "hanako@example.com", EmailVerified: true,
		Phone: "+819012345678", PhoneVerified: true, Country: "JP", Locale: "ja", OTPChannel: storage.ChannelEmail,
	}
}

func (fx *fixture) issue(t testing.TB, req IssueRequest) Challenge {
	t.Helper()
	if req.Member.ID == "" {
		req.Member = hanako()
	}
	if req.Purpose == "" {
		req.Purpose = PurposeLogin
	}
	ch, err := fx.svc.Issue(t.Context(), req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return ch
}

var (
	digitsLine  = regexp.MustCompile(`(?m)^(\d{6})\s*$`)
	digitsInSMS = regexp.MustCompile(`\d{6}`)
	pictoLine   = regexp.MustCompile(`(?m)^\d+\. (\S+) \(`)
	pictoSMS    = regexp.MustCompile(`(?:認証コード|code is) (.+?)(?:（| \(valid)`)
)

// lastMail returns the newest mail, failing when fewer than n arrived.
func (fx *fixture) lastMail(t testing.TB, n int) notifytest.ReceivedMail {
	t.Helper()
	msgs := fx.smtp.Messages()
	if len(msgs) < n {
		t.Fatalf("got %d mails, want at least %d", len(msgs), n)
	}
	return msgs[len(msgs)-1]
}

// codeFromMail reads the code the way a member would: the six digits, or
// the pictogram symbols in order, from the text part of the newest mail.
func (fx *fixture) codeFromMail(t testing.TB) string {
	t.Helper()
	m := fx.lastMail(t, 1)
	if ps := pictoLine.FindAllStringSubmatch(m.Text, -1); len(ps) > 0 {
		var syms []string
		for _, p := range ps {
			syms = append(syms, p[1])
		}
		c, err := ParsePictogramInput(syms)
		if err != nil {
			t.Fatalf("pictograms in mail: %v\n%s", err, m.Text)
		}
		return c
	}
	if d := digitsLine.FindStringSubmatch(m.Text); d != nil {
		return d[1]
	}
	t.Fatalf("no code in mail:\n%s", m.Text)
	return ""
}

// codeFromSMS reads the code from the newest SMS: the digits, or the
// pictograms as a member would copy them into the text field.
func (fx *fixture) codeFromSMS(t testing.TB) string {
	t.Helper()
	reqs := fx.sms.Delivered()
	if len(reqs) == 0 {
		t.Fatal("no SMS delivered")
	}
	body := reqs[len(reqs)-1].Body
	if d := digitsInSMS.FindString(body); d != "" {
		return d
	}
	if m := pictoSMS.FindStringSubmatch(body); m != nil {
		c, err := ParsePictogramInput([]string{m[1]})
		if err != nil {
			t.Fatalf("pictograms in SMS %q: %v", body, err)
		}
		return c
	}
	t.Fatalf("no code in SMS %q", body)
	return ""
}

// wrong returns a well-formed code that differs from code.
func wrong(code string) string {
	if strings.Contains(code, ".") {
		if strings.HasPrefix(code, "0.") {
			return "1." + code[2:]
		}
		return "0." + code[strings.Index(code, ".")+1:]
	}
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func events(t testing.TB, fx *fixture, memberID string) []storage.Event {
	t.Helper()
	es, err := fx.store.ListEvents(context.Background(), memberID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
