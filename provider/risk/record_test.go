package risk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/provider/audit"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

const loginAlertSubject = "[Tsubasa]新しいご利用環境からログインがありました/Login from new device"

// countingStore records how the engine writes: it must make exactly one
// RecordLogin call per login and never write a device on its own.
type countingStore struct {
	*bolt.Store
	records []storage.LoginRecord
	puts    int
	fail    error
}

func (s *countingStore) RecordLogin(ctx context.Context, rec storage.LoginRecord) error {
	s.records = append(s.records, rec)
	if s.fail != nil {
		return s.fail
	}
	return s.Store.RecordLogin(ctx, rec)
}

func (s *countingStore) PutDevice(ctx context.Context, d storage.Device) error {
	s.puts++
	return s.Store.PutDevice(ctx, d)
}

func TestRecordLoginWritesEventDeviceAndAlertTogether(t *testing.T) {
	st := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
	e, clock := newEngine(t, st, Options{})
	m := testMember("alice", "ja")
	env := Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"}
	a := login(t, e, m, env)

	if len(st.records) != 1 || st.puts != 0 {
		t.Fatalf("%d RecordLogin calls and %d PutDevice calls; want 1 and 0", len(st.records), st.puts)
	}
	rec := st.records[0]
	if rec.Device == nil || rec.Alert == nil {
		t.Fatalf("record %+v: want device and alert", rec)
	}

	// The event.
	evs, err := st.ListEvents(t.Context(), m.ID, 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events = %v, %v", evs, err)
	}
	ev := evs[0]
	if ev.Type != audit.EventLoginSucceeded || !ev.Success || ev.ClientID != "demo" || ev.Method != "pwd" ||
		ev.DeviceID != a.DeviceID || ev.IP != env.IP || ev.UserAgent != env.UserAgent || !ev.Time.Equal(clock.Now()) ||
		ev.Detail["environment"] != ReasonNoCookie || ev.Detail["alert"] != "queued" || ev.ID == "" {
		t.Errorf("event %+v", ev)
	}

	// The device.
	d, err := st.DeviceByID(t.Context(), m.ID, a.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Model != "iPhone" || d.Type != "mobile" || d.Browser != "Chrome" || d.OS != "iOS" || d.LastIP != env.IP ||
		!d.FirstSeenAt.Equal(clock.Now()) || !d.LastSeenAt.Equal(clock.Now()) {
		t.Errorf("device %+v", d)
	}

	// The alert, due now.
	due, err := st.DueMessages(t.Context(), clock.Now(), 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %v, %v", due, err)
	}
	msg := due[0]
	if msg.Channel != storage.ChannelEmail || msg.To != m.Email || msg.Subject != loginAlertSubject ||
		msg.State != storage.OutboxPending || msg.Purpose != PurposeAlert || msg.Locale != "ja" ||
		msg.Text == "" || msg.HTML == "" || !msg.ExpiresAt.IsZero() {
		t.Errorf("alert %+v", msg)
	}
	for _, want := range []string{"******321", "2025/07/01 00:00:00(JST)", "[Device] iPhone(mobile)", "[Browser] chrome",
		"203.0.113.7", "https://id.example.com/account/password", "https://id.example.com/account/not-me", "VPN"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("alert text lacks %q", want)
		}
	}
	// No secret and nothing that identifies more than needed.
	for _, secret := range []string{m.Number, a.SetCookie, a.DeviceID, string(testKey)} {
		if strings.Contains(msg.Text+msg.HTML+msg.Subject, secret) {
			t.Errorf("alert contains %q", secret)
		}
	}

	// A second login from the known device: event and device update, no alert.
	clock.Advance(time.Hour)
	env2 := Environment{DeviceCookie: a.SetCookie, UserAgent: uaIPhoneChrome2, IP: "203.0.113.99"}
	login(t, e, m, env2)
	last := st.records[len(st.records)-1]
	if last.Alert != nil || last.Event.Detail["environment"] != ReasonKnown || last.Event.Detail["alert"] != "" {
		t.Errorf("known login record %+v", last)
	}
	d2, err := st.DeviceByID(t.Context(), m.ID, a.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if !d2.FirstSeenAt.Equal(d.FirstSeenAt) || !d2.LastSeenAt.Equal(clock.Now()) || d2.LastIP != env2.IP || d2.BrowserVersion != "127.0.6533.77" {
		t.Errorf("device after known login %+v", d2)
	}
	if due, _ := st.DueMessages(t.Context(), clock.Now(), 0); len(due) != 1 {
		t.Errorf("%d alerts queued, want still 1", len(due))
	}
}

func TestRecordLoginFailureWritesNothing(t *testing.T) {
	st := &countingStore{Store: bolttest.Open(t, bolt.Options{}), fail: errors.New("disk full")}
	e, clock := newEngine(t, st, Options{})
	m := testMember("alice", "ja")
	a, err := e.Assess(t.Context(), m.ID, Environment{UserAgent: uaWindowsEdge})
	if err != nil {
		t.Fatal(err)
	}
	err = e.RecordLogin(t.Context(), LoginEvent{Member: m, Env: Environment{UserAgent: uaWindowsEdge}, Assessment: a})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("RecordLogin = %v, want the store's error", err)
	}
	evs, _ := st.ListEvents(t.Context(), m.ID, 0)
	due, _ := st.DueMessages(t.Context(), clock.Now(), 0)
	devs, _ := st.ListDevices(t.Context(), m.ID)
	if len(evs)+len(due)+len(devs) != 0 {
		t.Errorf("left behind %d events, %d alerts, %d devices", len(evs), len(due), len(devs))
	}
}

func TestRecordLoginChecksAssessment(t *testing.T) {
	e, _ := newEngine(t, bolttest.Open(t, bolt.Options{}), Options{})
	alice, bob := testMember("alice", "ja"), testMember("bob", "ja")
	bobs, err := e.Assess(t.Context(), bob.ID, Environment{})
	if err != nil {
		t.Fatal(err)
	}
	for name, ev := range map[string]LoginEvent{
		"no assessment":           {Member: alice},
		"another member's":        {Member: alice, Assessment: bobs},
		"no member":               {Assessment: bobs},
		"assessment, zero member": {Member: storage.Member{}, Assessment: bobs},
	} {
		if err := e.RecordLogin(t.Context(), ev); err == nil {
			t.Errorf("%s: RecordLogin succeeded", name)
		}
	}
}

func TestAlertConditions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		enabled    bool
		member     storage.Member
		pageLocale string
		wantStatus string
		wantFirst  string // the body's first line
	}{
		{"japanese member", true, testMember("a", "ja"), "en", "queued", "*English follows Japanese."},
		{"english member", true, testMember("a", "en"), "ja", "queued", "*日本語は英語の後に記載しています。"},
		{"no preference, japanese pages", true, testMember("a", ""), "", "queued", "*English follows Japanese."},
		{"no preference, english pages", true, testMember("a", ""), "en-US", "queued", "*日本語は英語の後に記載しています。"},
		{"no email", true, storage.Member{ID: "a", Number: "1234567"}, "", "no_email", ""},
		{"alerts disabled", false, testMember("a", "ja"), "", "disabled", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
			e, _ := newEngine(t, st, Options{})
			e.o.AlertsEnabled = tc.enabled
			a, err := e.Assess(t.Context(), tc.member.ID, Environment{UserAgent: uaMacSafari})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.RecordLogin(t.Context(), LoginEvent{Member: tc.member, Assessment: a, Locale: tc.pageLocale}); err != nil {
				t.Fatal(err)
			}
			rec := st.records[0]
			if got := rec.Event.Detail["alert"]; got != tc.wantStatus {
				t.Errorf("alert status %q, want %q", got, tc.wantStatus)
			}
			if (rec.Alert != nil) != (tc.wantFirst != "") {
				t.Fatalf("alert %v, want one: %v", rec.Alert, tc.wantFirst != "")
			}
			if rec.Alert != nil && !strings.HasPrefix(rec.Alert.Text, tc.wantFirst+"\n") {
				t.Errorf("alert starts %q, want %q", strings.SplitN(rec.Alert.Text, "\n", 2)[0], tc.wantFirst)
			}
			if rec.Device == nil {
				t.Error("device not recorded")
			}
		})
	}
}

func TestAuditAndKickAfterCommit(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	var siem bytes.Buffer
	var kicks atomic.Int32
	e, clock := newEngine(t, st, Options{
		Audit: audit.New(st, slog.New(slog.NewJSONHandler(&siem, nil))),
		Kick:  func() { kicks.Add(1) },
	})
	m := testMember("alice", "ja")
	a := login(t, e, m, Environment{UserAgent: uaAndroidChrome, IP: "203.0.113.7"})
	clock.Advance(time.Minute)
	login(t, e, m, Environment{DeviceCookie: a.SetCookie, UserAgent: uaAndroidChrome}) // known: no alert

	evs, err := st.ListEvents(t.Context(), m.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	// Newest first: the known login, the alert, the first login.
	if strings.Join(types, " ") != "login.succeeded alert.queued login.succeeded" {
		t.Fatalf("events %v", types)
	}
	queued := evs[1]
	if queued.Detail["kind"] != "login_alert" || queued.Detail["message_id"] == "" || queued.Detail["trigger"] != evs[2].ID {
		t.Errorf("alert.queued %+v", queued)
	}
	if _, err := st.OutboxMessageByID(t.Context(), queued.Detail["message_id"]); err != nil {
		t.Errorf("alert.queued names message %q: %v", queued.Detail["message_id"], err)
	}
	if kicks.Load() != 1 {
		t.Errorf("%d kicks, want 1", kicks.Load())
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(siem.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("SIEM line %q: %v", l, err)
		}
		lines = append(lines, v)
	}
	if len(lines) != 3 || lines[0]["event_type"] != "login.succeeded" || lines[1]["event_type"] != "alert.queued" ||
		lines[0]["event_id"] != evs[2].ID {
		t.Errorf("SIEM lines %v", lines)
	}
	if strings.Contains(siem.String(), a.SetCookie) {
		t.Error("SIEM output holds the device cookie")
	}
}

func TestRecordAppLinked(t *testing.T) {
	st := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
	e, clock := newEngine(t, st, Options{})
	m := testMember("alice", "en")
	cookie := login(t, e, m, Environment{UserAgent: uaWinFirefox}).SetCookie
	clock.Advance(time.Minute)
	env := Environment{DeviceCookie: cookie, UserAgent: uaWinFirefox, IP: "203.0.113.7"}
	if err := e.RecordAppLinked(t.Context(), m, "hotel", "Hotel Partner", env); err != nil {
		t.Fatal(err)
	}
	rec := st.records[len(st.records)-1]
	ev := rec.Event
	if ev.Type != audit.EventAppLinked || ev.ClientID != "hotel" || ev.DeviceID != e.DeviceID(cookie) ||
		ev.Detail["app"] != "Hotel Partner" || ev.Detail["alert"] != "queued" || rec.Device != nil {
		t.Errorf("record %+v", rec)
	}
	if rec.Alert == nil || rec.Alert.Subject != "[Tsubasa]外部アプリとの連携が行われました/Third-party app linked" ||
		rec.Alert.To != m.Email || rec.Alert.Channel != storage.ChannelEmail ||
		!strings.Contains(rec.Alert.Text, "https://id.example.com/account/apps") ||
		!strings.HasPrefix(rec.Alert.Text, "*日本語は英語の後に記載しています。") {
		t.Errorf("alert %+v", rec.Alert)
	}
	evs, err := st.ListEvents(t.Context(), m.ID, 1)
	if err != nil || len(evs) != 1 || evs[0].Type != audit.EventAppLinked {
		t.Errorf("stored events %v, %v", evs, err)
	}
	if err := e.RecordAppLinked(t.Context(), storage.Member{}, "hotel", "Hotel", env); err == nil {
		t.Error("RecordAppLinked without a member succeeded")
	}
}

func TestDefaultZoneIsTokyo(t *testing.T) {
	st := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
	e := New(st, renderer(t), Options{HMACKey: testKey, AlertsEnabled: true, BaseURL: "https://id.example.com",
		Now: func() time.Time { return time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC) }})
	m := testMember("alice", "ja")
	login(t, e, m, Environment{})
	alert := st.records[0].Alert
	if alert == nil || !strings.Contains(alert.Text, "[Date/Time] 2025/07/01 00:00:00(JST)") ||
		!strings.Contains(alert.Subject, "[Tsubasa]") || !strings.Contains(alert.Text, "/account/password") {
		t.Errorf("alert %+v", alert)
	}
}
