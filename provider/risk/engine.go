package risk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"tsubasa/provider/audit"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Store is the storage the Engine needs: device records, and the atomic
// login record (event + device + alert in one commit).
type Store interface {
	storage.Devices
	storage.Logins
}

// Options configure an Engine.
type Options struct {
	// HMACKey turns device cookies into stored device ids; at least 32
	// bytes, and stable across restarts (a new key makes every device new).
	HMACKey []byte
	// Brand names the programme in alerts ["Tsubasa"].
	Brand string
	// Location and ZoneLabel show alert times [Asia/Tokyo; the zone's
	// abbreviation, JST].
	Location  *time.Location
	ZoneLabel string
	// BaseURL is the issuer; alert links are BaseURL+"/account/…".
	BaseURL string
	// AlertsEnabled queues an alert mail for logins from a new environment
	// and for linked apps.
	AlertsEnabled bool
	// Audit, when set, receives the SIEM line of every event the Engine
	// commits and records alert.queued after an alert is committed.
	Audit *audit.Logger
	// Kick, when set, is called after an alert is committed, typically
	// notify.OutboxWorker.Kick, so the alert leaves before the next poll.
	Kick func()
	// Locate gives a client address's approximate place (geoip.DB's
	// Locate), stored with each login's event and device and shown in the
	// alert; nil or a zero Place when unknown.
	Locate func(ip string) storage.Place
	Now    func() time.Time // [time.Now]
	Logger *slog.Logger     // [discard]
}

// Engine recognises devices and records logins with their alerts.
type Engine struct {
	store  Store
	render *notify.Renderer
	o      Options
	key    []byte
	log    *slog.Logger
}

// New returns an Engine. r renders alerts and may be nil only when alerts
// are disabled. It panics on a short key, or on alerts without a renderer
// or a BaseURL: those are wiring mistakes, not runtime conditions.
func New(store Store, r *notify.Renderer, o Options) *Engine {
	if len(o.HMACKey) < 32 {
		panic("risk: Options.HMACKey must be at least 32 bytes")
	}
	if o.AlertsEnabled && (r == nil || o.BaseURL == "") {
		panic("risk: alerts enabled without a notify.Renderer or a BaseURL for their links")
	}
	if o.Brand == "" {
		o.Brand = "Tsubasa"
	}
	if o.Location == nil {
		o.Location = tokyo()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		store: store, render: r, o: o,
		key: append([]byte(nil), o.HMACKey...),
		log: logger.With("component", "risk"),
	}
}

// tokyo is the default zone; a fixed +09:00 stands in where no zone
// database is available (Japan has no daylight saving time).
func tokyo() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*60*60)
}

func (e *Engine) now() time.Time { return e.o.Now().UTC() }

// Environment is what a request tells about the browser it comes from.
type Environment struct {
	DeviceCookie string // the raw device cookie value, "" if none
	UserAgent    string
	IP           string
}

// Reasons of an Assessment.
const (
	ReasonNoCookie       = "no_cookie"       // no device cookie (or a malformed one)
	ReasonUnknownDevice  = "unknown_device"  // a cookie this member never logged in with
	ReasonBrowserChanged = "browser_changed" // this member's cookie, another browser family
	ReasonKnown          = "known"           // this member's cookie, same browser family
)

// Assessment is the verdict on one login's environment.
type Assessment struct {
	NewEnvironment bool   // anything but ReasonKnown: the login gets an alert
	Reason         string // one of the Reason constants
	DeviceID       string // the stored id of the device the login is attributed to
	// Device is the record the login will store: described from the
	// User-Agent, with FirstSeenAt kept from the known record and
	// LastSeenAt and LastIP from now.
	Device storage.Device
	// SetCookie is the device cookie value the browser must hold after the
	// login; set it (see Cookie) once RecordLogin succeeded. It is a fresh
	// value unless the device is known, and the same value again when it
	// is, which restarts its two years.
	SetCookie string
}

// Assess decides whether a login by memberID from env comes from a new
// environment. It only reads, so the UI can call it before the login is
// complete (to ask for a one-time password on a new device, say) and pass
// the result to RecordLogin.
//
// Known means: the browser brings a device cookie whose id is recorded for
// this member, and the browser family is the one recorded for it. A cookie
// recorded only for another member is unknown for this one.
//
// Every other case gets a fresh cookie rather than adopting the one the
// browser brought, so a cookie planted in or copied from someone's browser
// never becomes the member's recognised device.
func (e *Engine) Assess(ctx context.Context, memberID string, env Environment) (Assessment, error) {
	if memberID == "" {
		return Assessment{}, errors.New("risk: assess: member id required")
	}
	now := e.now()
	seen := DescribeDevice(env.UserAgent)
	seen.MemberID, seen.LastSeenAt, seen.LastIP = memberID, now, clean(env.IP)

	fresh := func(reason string) Assessment {
		cookie := NewDeviceCookie()
		d := seen
		d.ID, d.FirstSeenAt = e.DeviceID(cookie), now
		return Assessment{NewEnvironment: true, Reason: reason, DeviceID: d.ID, Device: d, SetCookie: cookie}
	}

	id := e.DeviceID(env.DeviceCookie)
	if id == "" {
		return fresh(ReasonNoCookie), nil
	}
	old, err := e.store.DeviceByID(ctx, memberID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fresh(ReasonUnknownDevice), nil
	case err != nil:
		return Assessment{}, fmt.Errorf("risk: assess: device lookup: %w", err)
	case !sameBrowser(old, seen):
		return fresh(ReasonBrowserChanged), nil
	}
	d := seen
	d.ID, d.FirstSeenAt = id, old.FirstSeenAt
	// The passkey offer's times are the browser's, kept across its logins.
	d.PasskeyOfferedAt, d.PasskeyDeclinedAt = old.PasskeyOfferedAt, old.PasskeyDeclinedAt
	if d.FirstSeenAt.IsZero() {
		d.FirstSeenAt = now
	}
	return Assessment{Reason: ReasonKnown, DeviceID: id, Device: d, SetCookie: env.DeviceCookie}, nil
}

// locate is Options.Locate, or the zero Place without it.
func (e *Engine) locate(ip string) storage.Place {
	if e.o.Locate == nil || ip == "" {
		return storage.Place{}
	}
	return e.o.Locate(ip)
}
