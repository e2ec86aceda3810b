package audit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/member"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

func TestRecordOrdersNewestFirst(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	l := New(st, nil)
	// A clock that stands still: filled-in times must still increase.
	frozen := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return frozen }
	var types []string
	for _, typ := range []string{EventOTPSent, EventOTPVerified, EventLoginSucceeded, EventAlertQueued} {
		if err := l.Record(t.Context(), storage.Event{Type: typ, MemberID: "m1", Success: true}); err != nil {
			t.Fatal(err)
		}
		types = append(types, typ)
	}
	// An event with its own, earlier time sorts by that time.
	early := storage.Event{Type: EventLoginFailed, MemberID: "m1", Time: frozen.Add(-time.Hour), Reason: "bad_credentials"}
	if err := l.Record(t.Context(), early); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(t.Context(), storage.Event{Type: EventLoginSucceeded, MemberID: "other"}); err != nil {
		t.Fatal(err)
	}

	got, err := l.List(t.Context(), "m1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var gotTypes []string
	for _, e := range got {
		gotTypes = append(gotTypes, e.Type)
		if e.ID == "" || e.Time.IsZero() || e.Time.Location() != time.UTC {
			t.Errorf("event %+v: want ID and UTC time filled in", e)
		}
	}
	slices.Reverse(types)
	want := append(types, EventLoginFailed)
	if !slices.Equal(gotTypes, want) {
		t.Errorf("List = %v, want %v", gotTypes, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].ID <= got[i].ID || !got[i-1].Time.After(got[i].Time) {
			t.Errorf("events %d and %d out of order: %s %v / %s %v", i-1, i, got[i-1].ID, got[i-1].Time, got[i].ID, got[i].Time)
		}
	}
	if limited, err := l.List(t.Context(), "m1", 2); err != nil || len(limited) != 2 || limited[0].ID != got[0].ID {
		t.Errorf("List limit 2 = %v, %v", limited, err)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t0 := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	a, b, c := NewID(t0), NewID(t0), NewID(t0.Add(time.Nanosecond))
	if a == b || len(a) != 32 {
		t.Errorf("ids %q %q: want unique, 32 hex digits", a, b)
	}
	if !(a < c && b < c) {
		t.Errorf("ids %q %q not before %q", a, b, c)
	}
}

func TestSIEMLine(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	var buf bytes.Buffer
	l := New(st, slog.New(slog.NewJSONHandler(&buf, nil)))
	e := storage.Event{
		Type: EventOTPVerified, MemberID: "m1", ClientID: "demo", DeviceID: "dev1", IP: "203.0.113.7",
		UserAgent: "Mozilla/5.0", Method: "otp", Success: true,
		Detail: map[string]string{"channel": "email", "otp": "482915", "new_password": "hunter2"},
	}
	if err := l.Record(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %q", buf.String())
	}
	for _, secret := range []string{"482915", "hunter2"} {
		if strings.Contains(lines[0], secret) {
			t.Errorf("SIEM line leaks %q: %s", secret, lines[0])
		}
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	stored, err := l.List(t.Context(), "m1", 1)
	if err != nil || len(stored) != 1 {
		t.Fatalf("List = %v, %v", stored, err)
	}
	want := map[string]any{
		"msg": "audit", "level": "INFO", "event_id": stored[0].ID, "event_type": "otp.verified",
		"member_id": "m1", "client_id": "demo", "device_id": "dev1", "ip": "203.0.113.7",
		"user_agent": "Mozilla/5.0", "method": "otp", "success": true, "reason": "",
		"event_time": stored[0].Time.Format(time.RFC3339Nano),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	detail, _ := got["detail"].(map[string]any)
	if detail["channel"] != "email" || detail["otp"] != Redacted || detail["new_password"] != Redacted {
		t.Errorf("detail = %v", detail)
	}
	// The stored copy is redacted too.
	if stored[0].Detail["otp"] != Redacted || stored[0].Detail["channel"] != "email" {
		t.Errorf("stored detail = %v", stored[0].Detail)
	}
}

func TestNoSIEMAndNilEmit(t *testing.T) {
	l := New(bolttest.Open(t, bolt.Options{}), nil)
	if err := l.Record(t.Context(), storage.Event{Type: EventPINUsed, MemberID: "m1"}); err != nil {
		t.Fatal(err)
	}
	var nilLogger *Logger
	nilLogger.Emit(t.Context(), storage.Event{Type: EventPINUsed}) // must not panic
}

func TestRedact(t *testing.T) {
	in := map[string]string{
		"pin": "1", "otp_code": "2", "refresh-token": "3", "client.secret": "4", "Password": "5",
		"channel": "6", "environment": "7", "message_id": "8", "spinner": "9", "app": "10",
	}
	out := Redact(in)
	for k, secret := range map[string]bool{
		"pin": true, "otp_code": true, "refresh-token": true, "client.secret": true, "Password": true,
		"channel": false, "environment": false, "message_id": false, "spinner": false, "app": false,
	} {
		if (out[k] == Redacted) != secret {
			t.Errorf("%s: got %q, secret=%v", k, out[k], secret)
		}
	}
	if in["pin"] != "1" {
		t.Error("Redact changed its argument")
	}
}

func TestFormat(t *testing.T) {
	jst := time.FixedZone("JST", 9*60*60)
	at := time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		e    storage.Event
		want string
	}{
		{
			"success",
			storage.Event{Time: at, Type: EventLoginSucceeded, Success: true, Method: "pwd", ClientID: "demo",
				IP: "203.0.113.7", Detail: map[string]string{"environment": "no_cookie", "alert": "queued"},
				UserAgent: "Mozilla/5.0 (iPhone)"},
			`2025-07-01 00:00:00 JST login.succeeded        ok   method=pwd client=demo ip=203.0.113.7 alert=queued environment=no_cookie ua="Mozilla/5.0 (iPhone)"`,
		},
		{
			"failure",
			storage.Event{Time: at, Type: EventLoginFailed, Reason: "bad_credentials", IP: "198.51.100.1"},
			`2025-07-01 00:00:00 JST login.failed           fail reason=bad_credentials ip=198.51.100.1`,
		},
		{
			"hostile user agent and secret detail",
			storage.Event{Time: at, Type: EventOTPFailed, UserAgent: "x\n2025-07-01 fake", Detail: map[string]string{"code": "123456"}},
			`2025-07-01 00:00:00 JST otp.failed             fail code=REDACTED ua="x\n2025-07-01 fake"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Format(tc.e, jst); got != tc.want {
				t.Errorf("Format =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if got := Format(storage.Event{Time: at, Type: EventPINUsed, Success: true}, nil); !strings.HasPrefix(got, "2025-06-30 15:00:00 UTC pin.used") {
		t.Errorf("nil location: %s", got)
	}
}

// The member service writes its own events; the names must be the ones
// listed here so that one log reads consistently.
func TestTypesMatchMemberService(t *testing.T) {
	for mine, theirs := range map[string]string{
		EventPasswordVerified:     member.EventPasswordVerified,
		EventLoginFailed:          member.EventLoginFailed,
		EventPasswordChanged:      member.EventPasswordChanged,
		EventPasswordChangeFailed: member.EventPasswordChangeFail,
		EventTelephoneVerified:    member.EventTelephoneVerified,
		EventTelephoneFailed:      member.EventTelephoneFailed,
		EventTelephoneLocked:      member.EventTelephoneLocked,
		EventMemberCreated:        member.EventMemberCreated,
		EventStatusChanged:        member.EventStatusChanged,
	} {
		if mine != theirs {
			t.Errorf("audit %q, member %q", mine, theirs)
		}
	}
	seen := map[string]bool{}
	for _, typ := range Types() {
		if seen[typ] {
			t.Errorf("%s listed twice", typ)
		}
		seen[typ] = true
	}
	for _, typ := range []string{"login.succeeded", "login.failed", "login.password_verified", "otp.sent", "otp.verified", "otp.failed",
		"password.changed", "pin.used", "passkey.added", "passkey.removed", "contact.changed", "app.linked",
		"app.unlinked", "alert.queued", "alert.sent", "sessions.revoked", "not_me.reported"} {
		if !seen[typ] {
			t.Errorf("Types lacks %s", typ)
		}
	}
}
