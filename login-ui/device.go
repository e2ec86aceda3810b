package loginui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// The member's side of the device grant (RFC 8628): a screen without a
// keyboard shows a user code, and the member approves it here, on a phone.
//
//	GET  /device[?user_code=]  the code form (verification_uri; prefilled from
//	                           verification_uri_complete, never submitted by itself)
//	POST /device               the code entered: "is this your device?", naming the
//	                           device's app and showing the code to compare with the screen
//	POST /device/confirm       yes: a login request for the device's app, bound to
//	                           this browser, through the whole login (password,
//	                           one-time password, passkey, step-up rules) and the
//	                           consent step, always asked for a device
//	complete (flow.go)         the request done: the grant approved with the login's
//	                           member, acr, amr, auth time and session, "return to
//	                           your device"
//	Fail (consent's deny, a cancelled step)  the grant denied: "not signed in"
//
// Both posts count against the entry limits (device_limit.go: per client
// address and in all, in storage, so they hold across replicas), right
// code or wrong, before the code is looked up: that bounds guessing. A
// code is accepted at most MaxEntriesPerCode times, and only while its
// grant is pending; unknown, expired, used and malformed codes get one
// message. The user code never reaches storage: the provider's
// UserCode gives its HMAC.

// DeviceStore is the storage the device pages need beyond the UI's Store.
type DeviceStore interface {
	storage.DeviceGrants
	storage.Throttles
	storage.Events
}

// DeviceOptions configure the device pages.
type DeviceOptions struct {
	Store DeviceStore // required
	// UserCode reads what the member typed: the grant's storage key and
	// the display form XXXX-XXXX; ok false when it cannot be a user code.
	// Required (the provider's DeviceUserCode).
	UserCode func(input string) (key, display string, ok bool)
	// RequestTTL bounds the login request made for a device (the grant's
	// own expiry bounds it too).
	RequestTTL time.Duration
	// Entry limits (config device.*).
	MaxEntriesPerAddress int
	MaxEntriesGlobal     int
	EntryWindow          time.Duration
	MaxEntriesPerCode    int
	// IPv6Prefix is the network an IPv6 client's entries count under
	// (clientaddr.LimitKey; 0: clientaddr.DefaultIPv6Prefix).
	IPv6Prefix int
	// Audit records device.approved and device.denied [a logger on Store].
	Audit *audit.Logger
}

type deviceFeature struct {
	DeviceOptions
	u *UI
}

// Device enables the device pages.
func Device(o DeviceOptions) Feature { return &deviceFeature{DeviceOptions: o} }

// DevicePath is the verification URI's path.
const DevicePath = "/device"

// Errors of a code that cannot be used; each has its page message.
var (
	errDeviceCode     = errors.New("loginui: the user code is unknown, expired, used or malformed")
	errDeviceTooMany  = errors.New("loginui: the user code was entered too many times")
	errDeviceDecided  = errors.New("loginui: the device grant is no longer pending")
	errDeviceNoMember = errors.New("loginui: the session has no member")
)

func (f *deviceFeature) register(u *UI) error {
	if f.Store == nil || f.UserCode == nil {
		return errors.New("loginui: the device feature needs Store and UserCode")
	}
	if f.MaxEntriesPerAddress < 1 || f.MaxEntriesGlobal < 1 || f.EntryWindow <= 0 || f.MaxEntriesPerCode < 1 {
		return errors.New("loginui: the device feature needs its entry limits")
	}
	if f.RequestTTL <= 0 {
		f.RequestTTL = 10 * time.Minute
	}
	if f.Audit == nil {
		f.Audit = audit.New(f.Store, nil)
	}
	f.u = u
	u.device = f
	// A device request has no redirect URI to send an error to: whatever
	// would fail it (consent's deny, a cancelled step) declines the device.
	fail := u.opts.Fail
	u.opts.Fail = func(w http.ResponseWriter, r *http.Request, id, code, desc string) {
		if req, err := u.store.AuthRequestByID(r.Context(), id); err == nil && req.DeviceGrant != "" {
			f.decline(w, r, req)
			return
		}
		if fail != nil {
			fail(w, r, id, code, desc)
		}
	}
	u.pageNames = append(u.pageNames, "device")
	u.handle("GET "+DevicePath, f.show)
	u.handle("POST "+DevicePath, f.enter)
	u.handle("POST "+DevicePath+"/confirm", f.confirm)
	return nil
}

type devicePage struct {
	page
	Mode       string // enter, confirm, done, denied
	UserCode   string // as typed (enter), or XXXX-XXXX (confirm)
	ClientName string
}

func (f *deviceFeature) render(w http.ResponseWriter, r *http.Request, status int, p devicePage) {
	f.u.render(w, r, status, "device", p)
}

func (f *deviceFeature) newPage(r *http.Request, mode string) devicePage {
	title := "device.title"
	switch mode {
	case "done":
		title = "device.done.title"
	case "denied":
		title = "device.denied.title"
	}
	return devicePage{page: f.u.newPage(r, f.u.langs.negotiate(r, nil), title), Mode: mode}
}

// memberPage is a page after the login, in the language the consent page
// spoke (the member's, unless the browser or the request chose).
func (f *deviceFeature) memberPage(r *http.Request, req storage.AuthRequest, memberID, mode string) devicePage {
	p := f.newPage(r, mode)
	if m, err := f.u.store.MemberByID(r.Context(), memberID); err == nil {
		p.page = f.u.newPage(r, f.u.consentLang(r, req, m), p.TitleKey)
	}
	return p
}

// show is the code form. A code in the URL (verification_uri_complete)
// only fills the field: the member still submits it and then confirms
// the device, so a link sent by someone else is never one tap.
func (f *deviceFeature) show(w http.ResponseWriter, r *http.Request) {
	p := f.newPage(r, "enter")
	if c := r.URL.Query().Get("user_code"); len(c) <= 32 {
		p.UserCode = c
	}
	f.render(w, r, http.StatusOK, p)
}

// enter looks the code up and asks the member to confirm the device.
func (f *deviceFeature) enter(w http.ResponseWriter, r *http.Request) {
	g, display, ok := f.lookup(w, r)
	if !ok {
		return
	}
	p := f.newPage(r, "confirm")
	p.UserCode, p.ClientName = display, f.u.opts.ClientName(r.Context(), g.ClientID)
	f.render(w, r, http.StatusOK, p)
}

// confirm starts the login for the device's app, bound to this browser.
func (f *deviceFeature) confirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	g, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	now := f.u.now().UTC()
	limit := f.MaxEntriesPerCode
	_, err := f.Store.UpdateDeviceGrant(ctx, g.ID, now, func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
		switch {
		case g.Status != storage.DevicePending:
			return g, errDeviceDecided
		case g.Entries >= limit:
			return g, errDeviceTooMany
		}
		g.Entries++
		return g, nil
	})
	if err != nil {
		f.refuse(w, r, err)
		return
	}
	sess := f.u.session(r)
	if sess.ID == "" {
		if err := f.u.sessions.Save(r, w, sess); err != nil {
			f.u.serverError(w, r, err)
			return
		}
	}
	exp := now.Add(f.RequestTTL)
	if g.ExpiresAt.Before(exp) {
		exp = g.ExpiresAt
	}
	req := storage.AuthRequest{
		ID: newRequestID(), ClientID: g.ClientID, ResponseType: "code", Scopes: g.Scopes, DeviceGrant: g.ID,
		BrowserSession: sess.ID, CreatedAt: now, ExpiresAt: exp,
	}
	if c, err := r.Cookie(langCookie); err == nil && f.u.langs.has(c.Value) {
		req.UILocales = []string{c.Value}
	}
	if err := f.u.store.CreateAuthRequest(ctx, req); err != nil {
		f.u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, LoginURL(req.ID), http.StatusSeeOther)
}

// lookup counts the entry against the limits, then finds the pending
// grant of the posted user code; it answers the request when it cannot.
func (f *deviceFeature) lookup(w http.ResponseWriter, r *http.Request) (storage.DeviceGrant, string, bool) {
	input := r.PostFormValue("user_code")
	if retry, ok := f.admit(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds()+0.5)))
		p := f.newPage(r, "enter")
		p.UserCode = input
		p.Error, p.ErrorArg = "device.error.throttled", minutes(retry)
		f.render(w, r, http.StatusTooManyRequests, p)
		return storage.DeviceGrant{}, "", false
	}
	key, display, ok := f.UserCode(input)
	var g storage.DeviceGrant
	err := errDeviceCode
	if ok {
		g, err = f.Store.DeviceGrantByUserCode(r.Context(), key, f.u.now())
		if err == nil && g.Status != storage.DevicePending {
			err = errDeviceDecided
		}
	}
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, errDeviceCode) && !errors.Is(err, errDeviceDecided) {
			f.u.serverError(w, r, err)
			return storage.DeviceGrant{}, "", false
		}
		f.u.log.InfoContext(r.Context(), "device user code refused", "ip", clientIP(r), "well_formed", ok)
		p := f.newPage(r, "enter")
		if len(input) <= 32 {
			p.UserCode = input
		}
		p.Error = "device.error.unknown"
		f.render(w, r, http.StatusBadRequest, p)
		return storage.DeviceGrant{}, "", false
	}
	return g, display, true
}

// refuse answers a code that cannot be confirmed any more.
func (f *deviceFeature) refuse(w http.ResponseWriter, r *http.Request, err error) {
	p := f.newPage(r, "enter")
	switch {
	case errors.Is(err, errDeviceTooMany):
		p.Error = "device.error.too_many"
	case errors.Is(err, errDeviceDecided), errors.Is(err, storage.ErrNotFound):
		p.Error = "device.error.unknown"
	default:
		f.u.serverError(w, r, err)
		return
	}
	f.render(w, r, http.StatusBadRequest, p)
}

// complete approves the device with the session's login (flow.go's
// complete hands it device requests) and sends the member back to it.
func (f *deviceFeature) complete(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) {
	ctx := r.Context()
	now := f.u.now().UTC()
	memberID := value(sess, keyMember)
	_, err := f.Store.UpdateDeviceGrant(ctx, req.DeviceGrant, now, func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
		switch {
		case g.Status != storage.DevicePending:
			return g, errDeviceDecided
		case memberID == "":
			return g, errDeviceNoMember
		}
		g.Status, g.MemberID, g.DecidedAt = storage.DeviceApproved, memberID, now
		g.AuthTime, g.ACR, g.AMR = authTime(sess), value(sess, keyACR), strings.Fields(value(sess, keyAMR))
		g.SessionID, g.MemberStamp = sess.ID, value(sess, keyStamp)
		return g, nil
	})
	_ = f.u.store.DeleteAuthRequest(ctx, req.ID)
	if err != nil {
		f.refuse(w, r, err)
		return
	}
	f.record(ctx, r, audit.EventDeviceApproved, memberID, req.ClientID)
	f.render(w, r, http.StatusOK, f.memberPage(r, req, memberID, "done"))
}

// decline denies the device: the member said no, or a step was cancelled.
func (f *deviceFeature) decline(w http.ResponseWriter, r *http.Request, req storage.AuthRequest) {
	ctx := r.Context()
	_, err := f.Store.UpdateDeviceGrant(ctx, req.DeviceGrant, f.u.now().UTC(), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
		if g.Status != storage.DevicePending {
			return g, errDeviceDecided
		}
		g.Status, g.DecidedAt = storage.DeviceDenied, f.u.now().UTC()
		return g, nil
	})
	_ = f.u.store.DeleteAuthRequest(ctx, req.ID)
	if err != nil {
		f.refuse(w, r, err)
		return
	}
	m := value(f.u.session(r), keyMember)
	if m != "" {
		f.record(ctx, r, audit.EventDeviceDenied, m, req.ClientID)
	}
	f.render(w, r, http.StatusOK, f.memberPage(r, req, m, "denied"))
}

func (f *deviceFeature) record(ctx context.Context, r *http.Request, typ, memberID, clientID string) {
	err := f.Audit.Record(ctx, storage.Event{Type: typ, MemberID: memberID, ClientID: clientID,
		IP: clientIP(r), UserAgent: r.UserAgent(), Success: typ == audit.EventDeviceApproved})
	if err != nil {
		f.u.log.ErrorContext(ctx, "audit event not recorded", "type", typ, "err", err)
	}
}

// newRequestID is a login request's id: 32 random bytes.
func newRequestID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
