package loginui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/audit"
	"tsubasa/provider/risk"
	"tsubasa/storage"
)

// RiskStore is the storage the risk feature's account pages need beyond
// the UI's own Store: the member's devices, and their tokens to revoke.
type RiskStore interface {
	storage.Devices
	storage.Tokens
}

// RiskOptions configure the risk feature.
type RiskOptions struct {
	Engine *risk.Engine
	Store  RiskStore
	// Audit lists the member's login history and records what the member
	// does on the devices pages (sessions.revoked, not_me.reported).
	Audit *audit.Logger
	// Secure is the issuer's https-ness: the device cookie's name and
	// Secure flag follow it.
	Secure bool
	// Location and ZoneLabel show times on the account pages, as in the
	// alerts [UTC; the zone's abbreviation].
	Location  *time.Location
	ZoneLabel string
	// HistoryLimit is how many logins the history page shows [30].
	HistoryLimit int
}

// riskFeature is device recognition and login alerts (provider/risk), and
// the member's pages about them: login history, devices and sessions,
// sign out a device or everywhere, and "this wasn't me".
type riskFeature struct {
	RiskOptions
	cat   catalog // for dates in the member's language
	langs langSet // for the alert's language
}

// Risk enables device recognition, login alerts and the member's login
// history and devices pages.
func Risk(o RiskOptions) Feature {
	return &riskFeature{RiskOptions: o}
}

func (f *riskFeature) register(u *UI) error {
	f.cat, f.langs = u.cat, u.langs
	if f.Engine == nil || f.Store == nil || f.Audit == nil {
		return errors.New("loginui: the risk feature needs an engine, a store and an audit logger")
	}
	if f.Location == nil {
		f.Location = time.UTC
	}
	if f.ZoneLabel == "" {
		f.ZoneLabel = time.Now().In(f.Location).Format("MST")
	}
	if f.HistoryLimit <= 0 {
		f.HistoryLimit = 30
	}
	u.risk = f
	u.onLogin = append(u.onLogin, f.recordLogin)
	u.pageNames = append(u.pageNames, "account_history", "account_devices", "account_not_me")
	u.addSection(accountSection{order: 40, titleKey: "security.history.title", descKey: "security.history.desc", path: "/account/history"})
	u.addSection(accountSection{order: 41, titleKey: "security.devices.title", descKey: "security.devices.desc", path: "/account/devices"})
	u.handle("GET /account/history", u.showHistory)
	u.handle("GET /account/devices", u.showDevices)
	u.handle("POST /account/devices/{id}/signout", u.signOutDevice)
	u.handle("POST /account/signout-all", u.signOutAll)
	u.handle("GET "+risk.NotMePath, u.showNotMe)
	u.handle("POST "+risk.NotMePath, u.postNotMe)
	return nil
}

// environment is what the request tells the risk engine about the browser.
func (f *riskFeature) environment(r *http.Request) risk.Environment {
	env := risk.Environment{UserAgent: r.UserAgent(), IP: clientIP(r)}
	if c, err := r.Cookie(risk.CookieNameFor(f.Secure)); err == nil {
		env.DeviceCookie = c.Value
	}
	return env
}

// deviceID is the stored id of the device cookie the browser brought, ""
// without one (or without the risk feature): the member service gives a
// device recorded for the member a login budget of its own.
func (u *UI) deviceID(r *http.Request) string {
	if u.risk == nil {
		return ""
	}
	return u.risk.Engine.DeviceID(u.risk.environment(r).DeviceCookie)
}

// newEnvironment reports whether a login by memberID from this request's
// browser comes from a new environment (no device cookie known for the
// member, or another browser family). It only reads, so steps before the
// login is established (a one-time password on a new device) can ask. It
// is false when the risk feature is off.
func (u *UI) newEnvironment(ctx context.Context, r *http.Request, memberID string) (bool, error) {
	if u.risk == nil {
		return false, nil
	}
	a, err := u.risk.Engine.Assess(ctx, memberID, u.risk.environment(r))
	if err != nil {
		return false, err
	}
	return a.NewEnvironment, nil
}

// appLinked records that the member linked a third-party app (a first
// consent): the app.linked event and, with alerts on, the alert mail, in
// one commit. It does nothing when the risk feature is off.
func (u *UI) appLinked(ctx context.Context, r *http.Request, m storage.Member, clientID, appName string) error {
	if u.risk == nil {
		return nil
	}
	return u.risk.Engine.RecordAppLinked(ctx, m, clientID, appName, u.risk.environment(r))
}

// recordLogin is the login hook: assess the browser, record the login with
// its device (and the alert, for a new environment) in one commit, then
// hand the browser its device cookie and tie the session to the device.
//
// A failure to record fails the login (the server error page): it means
// storage is failing, and a login whose alert could not be queued must not
// pass silently.
func (f *riskFeature) recordLogin(w http.ResponseWriter, r *http.Request, sess *sessions.Session, st flowState, req storage.AuthRequest) error {
	ctx := r.Context()
	env := f.environment(r)
	a, err := f.Engine.Assess(ctx, st.MemberID, env)
	if err != nil {
		return err
	}
	if st.Member.ID != st.MemberID {
		return errors.New("loginui: risk: the login's member record is not loaded")
	}
	err = f.Engine.RecordLogin(ctx, risk.LoginEvent{
		Member: st.Member, ClientID: req.ClientID, Method: loginMethod(st.AMR),
		Env: env, Assessment: a, Locale: f.langs.negotiate(r, req.UILocales),
	})
	if err != nil {
		return err
	}
	http.SetCookie(w, risk.Cookie(a.SetCookie, f.Secure))
	sess.Values[keyDevice] = a.DeviceID
	return nil
}

// loginMethod names how the member logged in, from the amr values:
// passkey, or the primary secret (pwd, pin) followed by +otp when a
// one-time password was given too.
func loginMethod(amr []string) string {
	has := func(v ...string) bool {
		return slices.ContainsFunc(v, func(s string) bool { return slices.Contains(amr, s) })
	}
	switch {
	case has("hwk", "swk"):
		return "passkey"
	case has("pin") && has("otp", "sms"):
		return "pin+otp"
	case has("pin"):
		return "pin"
	case has("pwd") && has("otp", "sms"):
		return "pwd+otp"
	case has("pwd"):
		return "pwd"
	case has("otp", "sms"):
		return "otp"
	}
	return ""
}
