package audit

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsubasa/storage"
)

// FormatLayout is how Format prints an event's time.
const FormatLayout = "2006-01-02 15:04:05 MST"

// Format prints e on one line for people, its time in loc (UTC when nil):
//
//	2025-07-01 09:00:00 JST login.succeeded    ok   method=pwd client=demo ip=203.0.113.7 environment=known ua="Mozilla/5.0 …"
//
// Empty fields are left out; detail follows in name order, the user agent
// comes last. Values with spaces, quotes or "=" are quoted.
func Format(e storage.Event, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	outcome := "fail"
	if e.Success {
		outcome = "ok"
	}
	var b strings.Builder
	b.WriteString(e.Time.In(loc).Format(FormatLayout))
	b.WriteByte(' ')
	b.WriteString(pad(e.Type, 22))
	b.WriteByte(' ')
	b.WriteString(pad(outcome, 4))
	field := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quote(v))
	}
	field("method", e.Method)
	field("reason", e.Reason)
	field("client", e.ClientID)
	field("device", e.DeviceID)
	field("ip", e.IP)
	d := Redact(e.Detail)
	for _, k := range slices.Sorted(maps.Keys(d)) {
		field(k, d[k])
	}
	field("ua", e.UserAgent)
	return strings.TrimRight(b.String(), " ")
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// quote quotes v when it would not read back as one value, and always when
// it holds control characters, so a hostile user agent cannot forge a line.
func quote(v string) string {
	if strings.ContainsAny(v, " \t\"=") || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return strconv.Quote(v)
	}
	return v
}
