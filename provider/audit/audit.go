package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"tsubasa/storage"
)

// Logger appends events to the store and, when a SIEM logger is set, writes
// each one as a JSON line there too.
type Logger struct {
	events storage.Events
	siem   *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	last time.Time // last time Prepare filled in, to keep filled times strictly increasing
}

// New returns a Logger over events. siem is optional (nil turns the SIEM
// output off); give it a JSON handler and every event becomes one line with
// the message "audit".
func New(events storage.Events, siem *slog.Logger) *Logger {
	return &Logger{events: events, siem: siem, now: time.Now}
}

// Record fills in the ID and Time when empty, removes secret-looking Detail
// values, appends the event and writes its SIEM line. The SIEM line is
// written only once the event is stored, so the two never disagree.
func (l *Logger) Record(ctx context.Context, e storage.Event) error {
	e = l.Prepare(e)
	if err := l.events.AppendEvent(ctx, e); err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Type, err)
	}
	l.Emit(ctx, e)
	return nil
}

// List returns a member's events, newest first, at most limit (all when
// limit <= 0).
func (l *Logger) List(ctx context.Context, memberID string, limit int) ([]storage.Event, error) {
	evs, err := l.events.ListEvents(ctx, memberID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: list events: %w", err)
	}
	return evs, nil
}

// Prepare returns e ready to store: Time set (UTC) and ID set when empty,
// and Detail redacted. Times it fills in increase strictly, so events
// recorded in a row by one process keep their order.
func (l *Logger) Prepare(e storage.Event) storage.Event {
	if e.Time.IsZero() {
		t := l.now().UTC()
		l.mu.Lock()
		if !t.After(l.last) {
			t = l.last.Add(time.Nanosecond)
		}
		l.last = t
		l.mu.Unlock()
		e.Time = t
	} else {
		e.Time = e.Time.UTC()
	}
	if e.ID == "" {
		e.ID = NewID(e.Time)
	}
	e.Detail = Redact(e.Detail)
	return e
}

// Emit writes the SIEM line of an event that is already stored, for events
// committed by other means (storage.Logins.RecordLogin stores a login's
// event with its device and alert). It does nothing on a nil Logger or
// without a SIEM logger.
func (l *Logger) Emit(ctx context.Context, e storage.Event) {
	if l == nil || l.siem == nil {
		return
	}
	// Once the event is stored: a write the request holds back (see
	// storage.Units) is stored when the request answers.
	storage.AfterCommit(ctx, func() { l.siem.LogAttrs(ctx, slog.LevelInfo, "audit", siemAttrs(e)...) })
}

// siemAttrs is the JSON shape of an event: the same keys on every line,
// snake_case, detail as a nested object.
func siemAttrs(e storage.Event) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("event_id", e.ID),
		slog.String("event_type", e.Type),
		slog.Time("event_time", e.Time.UTC()),
		slog.String("member_id", e.MemberID),
		slog.String("client_id", e.ClientID),
		slog.String("device_id", e.DeviceID),
		slog.String("ip", e.IP),
		slog.String("user_agent", e.UserAgent),
		slog.String("method", e.Method),
		slog.Bool("success", e.Success),
		slog.String("reason", e.Reason),
	}
	if d := Redact(e.Detail); len(d) > 0 {
		var detail []any
		for _, k := range slices.Sorted(maps.Keys(d)) {
			detail = append(detail, slog.String(k, d[k]))
		}
		attrs = append(attrs, slog.Group("detail", detail...))
	}
	return attrs
}

// NewID returns an event ID that sorts by t: 16 hex digits of Unix
// nanoseconds, then 16 random hex digits.
func NewID(t time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return fmt.Sprintf("%016x%s", uint64(t.UnixNano()), hex.EncodeToString(b[:]))
}

// Redacted replaces a Detail value whose name looks secret.
const Redacted = "REDACTED"

// secretWords are the name parts that mark a Detail value as secret.
var secretWords = []string{"password", "passwd", "secret", "token", "code", "otp", "pin", "cookie", "hash", "key"}

// Redact returns detail with every value under a secret-looking name
// (a part, split at _ - . or space, such as "otp" or "password")
// replaced by Redacted. detail itself is not changed.
func Redact(detail map[string]string) map[string]string {
	if len(detail) == 0 {
		return detail
	}
	out := make(map[string]string, len(detail))
	for k, v := range detail {
		if secretName(k) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

func secretName(k string) bool {
	parts := strings.FieldsFunc(strings.ToLower(k), func(r rune) bool {
		return r == '_' || r == '-' || r == '.' || r == ' '
	})
	for _, p := range parts {
		if slices.Contains(secretWords, p) {
			return true
		}
	}
	return false
}
