package contactcheck

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/notify"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/storagetest"
)

// outbox records what would have been sent.
type outbox struct {
	mu   sync.Mutex
	mail []notify.Message
	sms  []notify.SMS
	fail error
}

func (o *outbox) Send(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mail = append(o.mail, m)
	return o.fail
}

func (o *outbox) SendSMS(_ context.Context, s notify.SMS) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sms = append(o.sms, s)
	return o.fail
}

// lastLink is the token of the newest message's link.
func (o *outbox) lastLink(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	var body string
	switch {
	case len(o.sms) > 0 && (len(o.mail) == 0 || strings.Contains(o.sms[len(o.sms)-1].Body, "?t=")):
		body = o.sms[len(o.sms)-1].Body
	case len(o.mail) > 0:
		body = o.mail[len(o.mail)-1].Text
	}
	_, after, ok := strings.Cut(body, ConfirmPath+"?t=")
	if !ok {
		t.Fatalf("no link in %q", body)
	}
	tok, _ := url.QueryUnescape(strings.Fields(after)[0])
	return tok
}

type fixture struct {
	svc   *Service
	store *bolt.Store
	clock *storagetest.Clock
	out   *outbox
	m     storage.Member
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := bolttest.Open(t, bolt.Options{})
	r, err := notify.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	clock := storagetest.NewClock(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	out := &outbox{}
	svc, err := New(st, Options{Key: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "https://id.example.com/",
		Brand: "Sora", LinkTTL: 72 * time.Hour, TestInterval: time.Minute, TestsPerDay: 3,
		Mailer: out, SMS: out, Renderer: r, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	m := storage.Member{ID: "m-hanako", Number: "7654321", Email: "hanako@example.com", EmailVerified: true,
		Phone: "+819012345678", PhoneVerified: true, Status: storage.MemberActive, Locale: "ja"}
	if err := st.CreateMember(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: st, clock: clock, out: out, m: m}
}

func (f *fixture) member(t *testing.T) storage.Member {
	t.Helper()
	m, err := f.store.MemberByID(t.Context(), f.m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSendAndConfirm: a test message by mail and by SMS, each in the
// member's language with its link; Peek shows what a link confirms without
// spending it; Confirm stores the date once; the same link again, or
// another's, is refused.
func TestSendAndConfirm(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.svc.Send(ctx, f.m, ChannelEmail, "ja"); err != nil {
		t.Fatal(err)
	}
	mail := f.out.mail[0]
	if mail.To != "hanako@example.com" || !strings.Contains(mail.Subject, "テストメッセージ") || !strings.Contains(mail.HTML, "https://id.example.com"+ConfirmPath+"?t=") {
		t.Errorf("mail: to %s, subject %q", mail.To, mail.Subject)
	}
	tok := f.out.lastLink(t)
	if ch, dest, err := f.svc.Peek(ctx, tok); err != nil || ch != ChannelEmail || dest != "hanako@example.com" {
		t.Fatalf("Peek = %s %s %v", ch, dest, err)
	}
	f.clock.Advance(time.Hour)
	m, ch, err := f.svc.Confirm(ctx, tok)
	if err != nil || ch != ChannelEmail || !m.EmailConfirmedAt.Equal(f.clock.Now()) {
		t.Fatalf("Confirm = %v %s %v", m.EmailConfirmedAt, ch, err)
	}
	if _, _, err := f.svc.Confirm(ctx, tok); !errors.Is(err, ErrLink) {
		t.Errorf("the same link twice: %v", err)
	}
	if _, _, err := f.svc.Peek(ctx, tok); !errors.Is(err, ErrLink) {
		t.Errorf("Peek of a spent link: %v", err)
	}

	f.clock.Advance(time.Minute)
	if err := f.svc.Send(ctx, f.member(t), ChannelSMS, "en"); err != nil {
		t.Fatal(err)
	}
	if s := f.out.sms[0]; s.To != "+819012345678" || !strings.Contains(s.Body, "This is a test message") {
		t.Errorf("SMS %+v", s)
	}
	if m, ch, err := f.svc.Confirm(ctx, f.out.lastLink(t)); err != nil || ch != ChannelSMS || m.PhoneConfirmedAt.IsZero() || !m.EmailConfirmedAt.Before(m.PhoneConfirmedAt) {
		t.Errorf("SMS link: %v %s %v", m.PhoneConfirmedAt, ch, err)
	}
}

// TestLinkRefusals: forged, altered, expired, replaced, for an address the
// member no longer has, or for another member: each is ErrLink, and none
// stores a confirmation.
func TestLinkRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	other := storage.Member{ID: "m-taro", Number: "1234567", Email: "taro@example.com", EmailVerified: true, Status: storage.MemberActive}
	if err := f.store.CreateMember(ctx, other); err != nil {
		t.Fatal(err)
	}
	send := func(m storage.Member) string {
		t.Helper()
		f.clock.Advance(time.Minute)
		if err := f.svc.Send(ctx, m, ChannelEmail, "en"); err != nil {
			t.Fatal(err)
		}
		return f.out.lastLink(t)
	}
	first := send(f.m)
	newer := send(f.m)
	parts := strings.Split(newer, ".")
	withMember := func(id string) string { p := append([]string{id}, parts[1:]...); return strings.Join(p, ".") }
	taros := send(other)
	for name, tok := range map[string]string{
		"empty":                     "",
		"garbage":                   "not-a-token",
		"replaced by a newer link":  first,
		"another member's id in it": withMember(other.ID),
		"the channel changed":       strings.Join([]string{parts[0], ChannelSMS, parts[2], parts[3], parts[4]}, "."),
		"the expiry moved":          strings.Join([]string{parts[0], parts[1], "zzzzzz", parts[3], parts[4]}, "."),
		"another nonce":             strings.Join([]string{parts[0], parts[1], parts[2], "AAAAAAAAAAAAAAAAAAAAAA", parts[4]}, "."),
		"a MAC of another member's": strings.Join(append(parts[:4:4], strings.Split(taros, ".")[4]), "."),
		"an unknown member":         withMember("m-nobody"),
		"too long":                  strings.Repeat("a.", 200),
	} {
		if _, _, err := f.svc.Confirm(ctx, tok); !errors.Is(err, ErrLink) {
			t.Errorf("%s: %v, want ErrLink", name, err)
		}
	}
	if !f.member(t).EmailConfirmedAt.IsZero() {
		t.Fatal("a refused link confirmed the address")
	}
	// The address changes: its link no longer holds.
	if err := f.store.UpdateMember(ctx, f.m.ID, func(m storage.Member) (storage.Member, error) {
		m.Email = "hanako.new@example.com"
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Confirm(ctx, newer); !errors.Is(err, ErrLink) {
		t.Errorf("a link for the old address: %v", err)
	}
	// Expired.
	fresh := send(f.member(t))
	f.clock.Advance(72 * time.Hour)
	if _, _, err := f.svc.Confirm(ctx, fresh); !errors.Is(err, ErrLink) {
		t.Errorf("an expired link: %v", err)
	}
}

// TestThrottle: one send per interval and a daily cap, per member, kept in
// storage; a failed send counts.
func TestThrottle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.svc.Send(ctx, f.m, ChannelEmail, "ja"); err != nil {
		t.Fatal(err)
	}
	var te *ThrottledError
	if err := f.svc.Send(ctx, f.m, ChannelSMS, "ja"); !errors.As(err, &te) || te.RetryAfter != time.Minute {
		t.Fatalf("a second send at once: %v", err)
	}
	f.clock.Advance(time.Minute)
	f.out.fail = errors.New("smtp down")
	if err := f.svc.Send(ctx, f.m, ChannelEmail, "ja"); err == nil {
		t.Fatal("a failed send reported success")
	}
	f.out.fail = nil
	f.clock.Advance(time.Minute)
	if err := f.svc.Send(ctx, f.m, ChannelEmail, "ja"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.Send(ctx, f.m, ChannelEmail, "ja"); !errors.As(err, &te) || te.RetryAfter != 24*time.Hour-3*time.Minute {
		t.Fatalf("the fourth send in a day (3 allowed, a failed one counted): %v", err)
	}
	f.clock.Advance(24 * time.Hour)
	if err := f.svc.Send(ctx, f.m, ChannelEmail, "ja"); err != nil {
		t.Errorf("a day later: %v", err)
	}
	if err := f.svc.Send(ctx, storage.Member{ID: f.m.ID}, ChannelEmail, "ja"); !errors.Is(err, ErrNoDestination) {
		t.Errorf("no address: %v", err)
	}
}

// TestConfirmRace: many confirmations of one link at once store it once.
func TestConfirmRace(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.Send(t.Context(), f.m, ChannelEmail, "ja"); err != nil {
		t.Fatal(err)
	}
	tok := f.out.lastLink(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 20 {
		wg.Go(func() {
			if _, _, err := f.svc.Confirm(context.Background(), tok); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d confirmations of one link succeeded, want 1", wins)
	}
}

func TestReminderDue(t *testing.T) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	for _, tc := range []struct {
		name  string
		m     storage.Member
		every time.Duration
		want  bool
	}{
		{"off", storage.Member{Email: "a@example.com", EmailVerified: true}, 0, false},
		{"never confirmed", storage.Member{Email: "a@example.com", EmailVerified: true}, year, true},
		{"confirmed lately", storage.Member{Email: "a@example.com", EmailVerified: true, EmailConfirmedAt: now.Add(-24 * time.Hour)}, year, false},
		{"confirmed long ago", storage.Member{Email: "a@example.com", EmailVerified: true, EmailConfirmedAt: now.Add(-2 * year)}, year, true},
		{"reminded lately", storage.Member{Email: "a@example.com", EmailVerified: true, ContactReminderAt: now.Add(-29 * 24 * time.Hour)}, year, false},
		{"reminded a month ago", storage.Member{Email: "a@example.com", EmailVerified: true, ContactReminderAt: now.Add(-31 * 24 * time.Hour)}, year, true},
		{"unverified address, no phone", storage.Member{Email: "a@example.com"}, year, false},
		{"phone only", storage.Member{Phone: "+819012345678", PhoneVerified: true}, year, true},
		{"phone only, confirmed", storage.Member{Phone: "+819012345678", PhoneVerified: true, PhoneConfirmedAt: now}, year, false},
		{"nothing to check", storage.Member{}, year, false},
	} {
		if got := ReminderDue(tc.m, now, tc.every); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
