package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultDevOutboxSize is how many messages a development outbox keeps.
const DefaultDevOutboxSize = 200

// DevMessage is one message kept by OutboxMailer or OutboxSMS for the
// development page. Body is the text body; it holds one-time passwords in
// the clear, which is the point in development and why these drivers must
// never be configured in production.
type DevMessage struct {
	Time    time.Time
	Channel string // ChannelMail or ChannelSMS
	To      string
	Subject string // empty for SMS
	Body    string
	Purpose string
	Locale  string
}

// LogValue implements slog.LogValuer without the subject or body.
func (d DevMessage) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("channel", d.Channel),
		slog.String("purpose", d.Purpose),
		slog.String("locale", d.Locale),
	)
}

// devRing keeps the newest messages, oldest dropped first.
type devRing struct {
	mu     sync.Mutex
	buf    []DevMessage
	next   int // where the next message goes
	full   bool
	now    func() time.Time
	logger *slog.Logger
}

func newDevRing(size int, logger *slog.Logger) *devRing {
	if size <= 0 {
		size = DefaultDevOutboxSize
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &devRing{buf: make([]DevMessage, size), now: time.Now, logger: logger}
}

func (r *devRing) add(ctx context.Context, m DevMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	m.Time = r.now()
	r.buf[r.next] = m
	r.next = (r.next + 1) % len(r.buf)
	r.full = r.full || r.next == 0
	r.mu.Unlock()
	r.logger.InfoContext(ctx, "dev outbox stored message; see /dev/outbox", "message", m)
	return nil
}

// list returns the kept messages, newest first.
func (r *devRing) list() []DevMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	out := make([]DevMessage, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}

// OutboxMailer is the development Mailer: it keeps the last messages in
// memory for /dev/outbox instead of sending them.
type OutboxMailer struct{ ring *devRing }

var _ Mailer = (*OutboxMailer)(nil)

// NewOutboxMailer keeps the last size messages (DefaultDevOutboxSize if
// size <= 0). logger may be nil; it never receives bodies.
func NewOutboxMailer(size int, logger *slog.Logger) *OutboxMailer {
	return &OutboxMailer{ring: newDevRing(size, logger)}
}

// Send stores m; the text body is kept, or the HTML when there is no text.
func (o *OutboxMailer) Send(ctx context.Context, m Message) error {
	body := m.Text
	if body == "" {
		body = m.HTML
	}
	return o.ring.add(ctx, DevMessage{
		Channel: ChannelMail, To: m.To, Subject: m.Subject, Body: body, Purpose: m.Purpose, Locale: m.Locale,
	})
}

// List returns the kept messages, newest first.
func (o *OutboxMailer) List() []DevMessage { return o.ring.list() }

// OutboxSMS is the development SMSSender, the SMS twin of OutboxMailer.
type OutboxSMS struct{ ring *devRing }

var _ SMSSender = (*OutboxSMS)(nil)

// NewOutboxSMS keeps the last size messages (DefaultDevOutboxSize if
// size <= 0). logger may be nil; it never receives bodies.
func NewOutboxSMS(size int, logger *slog.Logger) *OutboxSMS {
	return &OutboxSMS{ring: newDevRing(size, logger)}
}

// SendSMS stores s.
func (o *OutboxSMS) SendSMS(ctx context.Context, s SMS) error {
	return o.ring.add(ctx, DevMessage{Channel: ChannelSMS, To: s.To, Body: s.Body, Purpose: s.Purpose, Locale: s.Locale})
}

// List returns the kept messages, newest first.
func (o *OutboxSMS) List() []DevMessage { return o.ring.list() }
