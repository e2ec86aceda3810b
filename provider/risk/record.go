package risk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tsubasa/provider/audit"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Alert links, appended to Options.BaseURL. The pages are the login UI's.
const (
	ChangePasswordPath = "/account/password"
	NotMePath          = "/account/not-me"
	ManageAppsPath     = "/account/apps"
)

// PurposeAlert is the outbox Purpose of alert mail.
const PurposeAlert = "alert"

// What happened to the alert, in the event's Detail["alert"].
const (
	alertQueued   = "queued"
	alertDisabled = "disabled"
	alertNoEmail  = "no_email"
)

// LoginEvent is a completed login.
type LoginEvent struct {
	Member     storage.Member
	ClientID   string
	Method     string // amr-style method of the login: pwd, pin, otp, hwk …
	Env        Environment
	Assessment Assessment // from Assess for this member and Env
	// Locale is the language of the login pages; the alert follows the
	// member's own Locale and uses this only when the member has none.
	Locale string
}

// RecordLogin stores a completed login with one storage RecordLogin call:
// the login.succeeded event, the device (inserted, or updated with its new
// LastSeenAt and LastIP) and, when the environment is new, alerts are
// enabled and the member has an email address, the alert mail in the
// outbox. All three are committed together or not at all, and nothing is
// sent here: the outbox worker delivers the alert, so a mail server that is
// down neither slows nor fails the login.
func (e *Engine) RecordLogin(ctx context.Context, ev LoginEvent) error {
	m, a := ev.Member, ev.Assessment
	if m.ID == "" {
		return errors.New("risk: record login: member id required")
	}
	if a.DeviceID == "" || a.Device.MemberID != m.ID {
		return errors.New("risk: record login: the assessment is not this member's (call Assess first)")
	}
	now := e.now()
	dev := a.Device
	dev.ID, dev.LastSeenAt, dev.LastIP = a.DeviceID, now, clean(ev.Env.IP)
	if dev.FirstSeenAt.IsZero() {
		dev.FirstSeenAt = now
	}
	dev.Place = e.locate(dev.LastIP)
	event := newEvent(now, audit.EventLoginSucceeded, m.ID, ev.ClientID, dev.ID, ev.Env)
	event.Method, event.Place = ev.Method, dev.Place
	event.Detail = map[string]string{"environment": a.Reason}

	var alert *storage.OutboxMessage
	if a.NewEnvironment {
		var err error
		alert, event.Detail["alert"], err = e.alert(now, m, ev.Locale, notify.KindLoginAlert, notify.LoginAlertData{
			Brand: e.o.Brand, MemberNumber: m.Number, When: now,
			Location: e.o.Location, ZoneLabel: e.o.ZoneLabel, MemberLocation: memberZone(m.Country),
			Device: DisplayDevice(dev), Browser: DisplayBrowser(dev), IP: dev.LastIP, Place: dev.Place,
			ChangePasswordURL: e.o.BaseURL + ChangePasswordPath, NotMeURL: e.o.BaseURL + NotMePath,
		})
		if err != nil {
			return err
		}
	}
	if err := e.store.RecordLogin(ctx, storage.LoginRecord{Event: event, Device: &dev, Alert: alert}); err != nil {
		return fmt.Errorf("risk: record login: %w", err)
	}
	e.committed(ctx, event, alert, notify.KindLoginAlert)
	return nil
}

// RecordAppLinked stores that the member linked a third-party app (a first
// consent): the app.linked event and, when alerts are enabled and the
// member has an email address, the app-linked alert in the outbox, in one
// commit. The device is not touched; the event names it when the browser
// brings a well-formed device cookie.
func (e *Engine) RecordAppLinked(ctx context.Context, m storage.Member, clientID, appName string, env Environment) error {
	if m.ID == "" {
		return errors.New("risk: record app linked: member id required")
	}
	now := e.now()
	event := newEvent(now, audit.EventAppLinked, m.ID, clientID, e.DeviceID(env.DeviceCookie), env)
	event.Place = e.locate(event.IP)
	event.Detail = map[string]string{"app": clean(appName)}
	alert, status, err := e.alert(now, m, "", notify.KindAppLinked, notify.AppLinkedData{
		Brand: e.o.Brand, MemberNumber: m.Number, AppName: appName, When: now,
		Location: e.o.Location, ZoneLabel: e.o.ZoneLabel, MemberLocation: memberZone(m.Country),
		ManageURL:         e.o.BaseURL + ManageAppsPath,
		ChangePasswordURL: e.o.BaseURL + ChangePasswordPath, NotMeURL: e.o.BaseURL + NotMePath,
	})
	if err != nil {
		return err
	}
	event.Detail["alert"] = status
	if err := e.store.RecordLogin(ctx, storage.LoginRecord{Event: event, Alert: alert}); err != nil {
		return fmt.Errorf("risk: record app linked: %w", err)
	}
	e.committed(ctx, event, alert, notify.KindAppLinked)
	return nil
}

func newEvent(now time.Time, typ, memberID, clientID, deviceID string, env Environment) storage.Event {
	return storage.Event{
		ID: audit.NewID(now), Time: now, Type: typ, Success: true,
		MemberID: memberID, ClientID: clientID, DeviceID: deviceID,
		IP: clean(env.IP), UserAgent: truncate(env.UserAgent, maxUserAgent),
	}
}

// alert renders the bilingual alert mail of kind for m into a pending
// outbox record, or says why there is none. The member's language comes
// first (Japanese when the member has none and the pages gave none).
func (e *Engine) alert(now time.Time, m storage.Member, pageLocale, kind string, data any) (*storage.OutboxMessage, string, error) {
	switch {
	case !e.o.AlertsEnabled:
		return nil, alertDisabled, nil
	case m.Email == "":
		return nil, alertNoEmail, nil
	}
	locale := m.Locale
	if locale == "" {
		locale = pageLocale
	}
	msg, err := e.render.RenderMessage(kind, locale, m.Email, PurposeAlert, data)
	if err != nil {
		return nil, "", fmt.Errorf("risk: render %s alert: %w", kind, err)
	}
	rec := notify.NewMailRecord(msg, now)
	return &rec, alertQueued, nil
}

// committed runs after a commit: the SIEM line, the alert.queued event and
// a nudge to the outbox worker. None of it can undo the commit, so failures
// are logged.
func (e *Engine) committed(ctx context.Context, event storage.Event, alert *storage.OutboxMessage, kind string) {
	e.o.Audit.Emit(ctx, event)
	if alert == nil {
		return
	}
	e.log.InfoContext(ctx, "alert queued", "kind", kind, "message_id", alert.ID,
		"member_id", event.MemberID, "event_id", event.ID)
	if e.o.Audit != nil {
		// Strictly after the event that triggered it, so the log lists
		// them in that order even when the clock has not moved.
		at := e.now()
		if !at.After(event.Time) {
			at = event.Time.Add(time.Nanosecond)
		}
		err := e.o.Audit.Record(ctx, storage.Event{
			Time: at, Type: audit.EventAlertQueued, MemberID: event.MemberID, ClientID: event.ClientID,
			DeviceID: event.DeviceID, IP: event.IP, Success: true,
			Detail: map[string]string{"kind": kind, "message_id": alert.ID, "trigger": event.ID},
		})
		if err != nil {
			e.log.ErrorContext(ctx, "alert.queued event not written", "message_id", alert.ID, "error", err)
		}
	}
	if e.o.Kick != nil {
		e.o.Kick()
	}
}
