package loginui

import (
	"net/http"
	"slices"

	"github.com/gorilla/sessions"

	"tsubasa/storage"
)

// After-login nudges (the passkey offer, the reminder to check the
// contacts) are after-steps that never block a login: each is one click
// to skip, runs only right after the member actually logged in for this
// request (never on an SSO answer, never with prompt=none), and a login
// shows at most one of them, so the way back to the app stays short.

// Session keys of the nudges.
const (
	// keyFreshLogin is the request whose login this session established
	// last (establish sets it): a nudge follows a real login, not SSO.
	keyFreshLogin = "fresh_login"
	// keyNudged is the request that already showed a nudge.
	keyNudged = "nudged"
)

// freshLogin reports whether the session's login was made for req.
func freshLogin(sess *sessions.Session, req storage.AuthRequest) bool {
	return sess != nil && value(sess, keyFreshLogin) == req.ID
}

// mayNudge reports whether a nudge may show for req: a fresh login, no
// nudge yet, a client that is not the account pages (which offer all of
// it themselves) and a request that lets the member be asked.
func mayNudge(sess *sessions.Session, req storage.AuthRequest) bool {
	return freshLogin(sess, req) && value(sess, keyNudged) != req.ID &&
		req.ClientID != AccountClientID && !slices.Contains(req.Prompt, "none")
}

// nudgeShown records that req showed its nudge.
func nudgeShown(sess *sessions.Session, req storage.AuthRequest) { sess.Values[keyNudged] = req.ID }

// Metrics count what members do, for the operator (cmd wires Prometheus).
// Every method must be safe for concurrent use.
type Metrics interface {
	// Login counts an established login by its method: pwd, pwd+otp,
	// pin, pin+otp, otp, passkey.
	Login(method string)
	// PasskeyOffer counts the passkey offer: shown, accepted (a passkey
	// was created from it), declined ("not now").
	PasskeyOffer(outcome string)
}

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) Login(string)        {}
func (noMetrics) PasskeyOffer(string) {}

// metrics is Options.Metrics, or one that counts nothing.
func (u *UI) metrics() Metrics {
	if u.opts.Metrics == nil {
		return noMetrics{}
	}
	return u.opts.Metrics
}

// formHook runs when the password form's login succeeded, before the flow
// begins: features read what the login page's script added to the form
// (the browser's passkey capabilities).
type formHook func(r *http.Request, sess *sessions.Session, req storage.AuthRequest)
