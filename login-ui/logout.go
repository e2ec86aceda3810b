package loginui

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// Logging out, and the login UI's half of RP-Initiated Logout 1.0. The
// provider validates /end_session (the hint, the client, the exact
// post_logout_redirect_uri) and cmd hands the result to EndSession; the
// browser session, the question to the member and the redirect are here.
//
//	EndSession (GET|POST /end_session)
//	                  a POST without the session cookie (cross-site: SameSite=Lax):
//	                  303 to the same request as a GET, which brings the cookie
//	                  no member logged in here: nothing to end; to the validated
//	                  post_logout_redirect_uri, or /logged-out
//	                  the hint proves this browser's session (its sid, its member;
//	                  live, or lapsed with its record still stored):
//	                  end it and its tokens at once, then the same
//	                  otherwise (no hint, another session's, another member's): keep
//	                  the request in the session, and 303 to the question
//	GET  /logout      "Log out of <brand>?", naming the app that asks; changes nothing
//	POST /logout      action=logout: end the session and its tokens, then the request's
//	                  redirect if the form carries its id, or /logged-out
//	                  action=stay: forget the request; 303 to /logout?stayed=1, which says
//	                  the member is still logged in
//	GET  /logged-out  the logged-out page; changes nothing (a browser still logged in
//	                  is sent to the question instead of being told otherwise)
//
// A GET never ends a session, except /end_session with a hint for this
// very session, which only the relying party holding its ID token can
// send; the POST is a form of this origin (cross-origin protection).
// "Stay logged in" does not return to the relying party: §3 redirects
// there "after a logout has been performed", and a relying party sent
// there would take the member for logged out, the mistake this answers.
//
// Ending a session revokes the tokens that descend from it (refresh tokens
// deleted, access tokens through the recorded revocation, codes in flight
// refused at the token endpoint) before the session itself goes, so a
// failure leaves the member logged in, free to try again, rather than
// logged out with the tokens still valid.

// LogoutPath is the logout question's page.
const LogoutPath = "/logout"

// Logout is a validated end-session request (provider.LogoutRequest, as
// cmd passes it on).
type Logout struct {
	ClientID    string   // the relying party asking; "" when unnamed
	RedirectURI string   // registered post_logout_redirect_uri with state; "" for none
	SessionID   string   // the session a valid id_token_hint proves; "" otherwise
	UILocales   []string // ui_locales
}

// LogoutReason is why the provider refused an end-session request.
type LogoutReason int

// Reasons for a refused end-session request (provider.LogoutReason).
const (
	LogoutMalformed LogoutReason = iota + 1
	LogoutUnknownClient
	LogoutBadHint
	LogoutClientMismatch
	LogoutBadRedirect
	LogoutRedirectWithoutClient
	LogoutUnavailable
)

// The logout request waiting for the member's answer, kept in the
// server-side session: nothing the form carries but its random id, so the
// redirect target can never come from the browser.
const (
	keyLogoutID       = "logout_id"
	keyLogoutClient   = "logout_client"
	keyLogoutRedirect = "logout_redirect"
	keyLogoutLocales  = "logout_locales"
	keyLogoutUntil    = "logout_until" // unix seconds
)

// logoutRequestTTL is how long the question waits for its answer.
const logoutRequestTTL = 10 * time.Minute

type pendingLogout struct {
	id, client, redirect string
	locales              []string
}

type logoutPage struct {
	page
	Mode       string // confirm, stayed or refused
	ClientName string // confirm: the app asking, if any
	LogoutID   string // confirm: the request the answer is for
	Message    string // refused: catalog key
	Detail     string // refused: the parameter at fault, for the app's developers
	LoggedIn   bool   // refused: still logged in, so offer the question
}

// loggedIn reports whether a member is logged in with sess (whatever the
// member's status: any such session can be ended).
func loggedIn(sess *sessions.Session) bool { return value(sess, keyMember) != "" }

// EndSession takes a validated end-session request from the provider.
func (u *UI) EndSession(w http.ResponseWriter, r *http.Request, req Logout) {
	u.setSecurityHeaders(w, r)
	if _, err := r.Cookie(u.cookie); err != nil && r.Method == http.MethodPost {
		// A relying party's auto-submitted form is a cross-site POST,
		// which carries no SameSite=Lax session cookie: this browser's
		// session would look absent, and the browser be sent back as if
		// logged out. The same request as a top-level GET carries it.
		http.Redirect(w, r, r.URL.Path+"?"+r.Form.Encode(), http.StatusSeeOther)
		return
	}
	sess := u.session(r)
	if !loggedIn(sess) && req.SessionID != "" {
		u.lapsedSession(r, sess, req.SessionID)
	}
	if !loggedIn(sess) {
		leave(w, r, req.RedirectURI)
		return
	}
	if req.SessionID != "" && subtle.ConstantTimeCompare([]byte(req.SessionID), []byte(sess.ID)) == 1 {
		if err := u.endSession(w, r, sess, "relying_party", req.ClientID); err != nil {
			u.serverError(w, r, err)
			return
		}
		leave(w, r, req.RedirectURI)
		return
	}
	sess.Values[keyLogoutID] = newSessionID()
	sess.Values[keyLogoutClient] = req.ClientID
	sess.Values[keyLogoutRedirect] = req.RedirectURI
	sess.Values[keyLogoutLocales] = strings.Join(req.UILocales, " ")
	sess.Values[keyLogoutUntil] = strconv.FormatInt(u.now().Add(logoutRequestTTL).Unix(), 10)
	if err := u.sessions.Save(r, w, sess); err != nil {
		if errors.Is(err, errSessionGone) { // ended meanwhile: nothing left to ask about
			leave(w, r, req.RedirectURI)
			return
		}
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, LogoutPath, http.StatusSeeOther)
}

// lapsedSession loads into sess the session the cookie and the hint both
// name when it is no longer live (idle, or past its lifetime) but its
// record is still stored: no login can come from it any more, but tokens
// that descend from it can, and the relying party asks to end them.
func (u *UI) lapsedSession(r *http.Request, sess *sessions.Session, hintSID string) {
	id := u.sessions.cookieID(r, u.cookie)
	if id == "" || subtle.ConstantTimeCompare([]byte(id), []byte(hintSID)) != 1 {
		return
	}
	rec, err := u.store.SessionByID(r.Context(), id)
	if err != nil || rec.MemberID == "" {
		return
	}
	sess.ID, sess.IsNew = rec.ID, false
	sess.Values[keyMember] = rec.MemberID
	sess.Values[keyDevice] = rec.DeviceID
}

// leave sends the browser to the relying party's validated
// post_logout_redirect_uri, or to the logged-out page.
func leave(w http.ResponseWriter, r *http.Request, redirect string) {
	if redirect == "" {
		redirect = LogoutURL
	}
	http.Redirect(w, r, redirect, http.StatusSeeOther)
}

// pending returns the logout request waiting in sess, if any and in time.
func (u *UI) pending(data map[string]string) (pendingLogout, bool) {
	until, err := strconv.ParseInt(data[keyLogoutUntil], 10, 64)
	if data[keyLogoutID] == "" || err != nil || !u.now().Before(time.Unix(until, 0)) {
		return pendingLogout{}, false
	}
	return pendingLogout{id: data[keyLogoutID], client: data[keyLogoutClient], redirect: data[keyLogoutRedirect],
		locales: strings.Fields(data[keyLogoutLocales])}, true
}

func sessionData(sess *sessions.Session) map[string]string {
	m := map[string]string{}
	for k, v := range sess.Values {
		ks, _ := k.(string)
		vs, _ := v.(string)
		m[ks] = vs
	}
	return m
}

func (u *UI) showLogout(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	if !loggedIn(sess) {
		http.Redirect(w, r, LogoutURL, http.StatusSeeOther)
		return
	}
	if r.URL.Query().Get("stayed") == "1" { // the answer "Stay logged in", after its POST
		u.render(w, r, http.StatusOK, "logout", logoutPage{page: u.newPage(r, u.langs.negotiate(r, nil), "logout.stayed.title"), Mode: "stayed"})
		return
	}
	pend, ok := u.pending(sessionData(sess))
	p := logoutPage{page: u.newPage(r, u.langs.negotiate(r, pend.locales), "logout.title"), Mode: "confirm"}
	if ok {
		p.LogoutID = pend.id
		if pend.client != "" {
			p.ClientName = u.opts.ClientName(r.Context(), pend.client)
		}
	}
	u.render(w, r, http.StatusOK, "logout", p)
}

func (u *UI) postLogout(w http.ResponseWriter, r *http.Request) {
	action := r.PostFormValue("action")
	if action != "logout" && action != "stay" {
		u.renderError(w, r, http.StatusBadRequest, "logout.error.action")
		return
	}
	sess := u.session(r)
	if !loggedIn(sess) {
		// Logged out already (another tab, or the session expired).
		http.Redirect(w, r, LogoutURL, http.StatusSeeOther)
		return
	}
	pend, ok := u.claimLogout(r.Context(), sess.ID, r.PostFormValue("logout_id"))
	if action == "stay" {
		http.Redirect(w, r, LogoutPath+"?stayed=1", http.StatusSeeOther)
		return
	}
	if err := u.endSession(w, r, sess, "member", pend.client); err != nil {
		u.serverError(w, r, err)
		return
	}
	// The member asked to log out, so a stale or foreign form still does;
	// only the request it answers may send the browser on.
	if !ok {
		pend.redirect = ""
	}
	leave(w, r, pend.redirect)
}

var errNoLogout = errors.New("loginui: no such logout request")

// claimLogout takes the logout request id from the session, once: of two
// answers to one question only one gets its redirect. An empty, unknown,
// replaced or expired id claims nothing.
func (u *UI) claimLogout(ctx context.Context, sessID, id string) (pendingLogout, bool) {
	if id == "" {
		return pendingLogout{}, false
	}
	var got pendingLogout
	err := u.store.UpdateSession(ctx, sessID, func(s storage.Session) (storage.Session, error) {
		p, ok := u.pending(s.Data)
		if s.Data[keyLogoutID] == "" || subtle.ConstantTimeCompare([]byte(s.Data[keyLogoutID]), []byte(id)) != 1 {
			return s, errNoLogout
		}
		data := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = v
		}
		for _, k := range []string{keyLogoutID, keyLogoutClient, keyLogoutRedirect, keyLogoutLocales, keyLogoutUntil} {
			delete(data, k)
		}
		s.Data = data
		got = pendingLogout{}
		if ok {
			got = p
		}
		return s, nil
	})
	if err != nil {
		if !errors.Is(err, errNoLogout) && !errors.Is(err, storage.ErrNotFound) {
			u.log.ErrorContext(ctx, "claim logout request", "err", err)
		}
		return pendingLogout{}, false
	}
	return got, got.id != ""
}

// endSession ends the browser's session: the tokens that descend from it
// first, then the record and the cookie (see the top of this file).
func (u *UI) endSession(w http.ResponseWriter, r *http.Request, sess *sessions.Session, by, clientID string) error {
	ctx := r.Context()
	memberID := value(sess, keyMember)
	n := 0
	if memberID != "" { // tokens descend only from a session with a login
		// Queued before the session ends, so that a crash loses none.
		u.opts.Logouts.EndingSession(ctx, sess.ID)
		var err error
		if n, err = u.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: memberID, SessionID: sess.ID}); err != nil {
			return err
		}
	}
	sess.Options.MaxAge = -1
	if err := u.sessions.Save(r, w, sess); err != nil {
		return err
	}
	if memberID == "" {
		return nil
	}
	u.log.InfoContext(ctx, "session ended", "member_id", memberID, "by", by, "client_id", clientID, "tokens_revoked", n)
	if u.risk != nil {
		u.record(r, storage.Event{
			Type: audit.EventSessionsRevoked, MemberID: memberID, DeviceID: value(sess, keyDevice), Success: true,
			Detail: map[string]string{"scope": "session", "by": by, "client_id": clientID,
				"sessions": "1", "tokens": strconv.Itoa(n)},
		})
	}
	return nil
}

// LogoutRefused shows the member why an end-session request was refused:
// nothing was ended and the browser stays here. A member still logged in
// is offered the question, so a broken app never keeps anyone logged in.
func (u *UI) LogoutRefused(w http.ResponseWriter, r *http.Request, reason LogoutReason, status int, uiLocales []string) {
	u.setSecurityHeaders(w, r)
	key, detail := refusalText(reason)
	p := logoutPage{page: u.newPage(r, u.langs.negotiate(r, uiLocales), "logout.refused.title"), Mode: "refused",
		Message: key, Detail: detail, LoggedIn: loggedIn(u.session(r))}
	u.render(w, r, status, "logout", p)
}

// refusalText is the message for a refusal and the parameter it names.
func refusalText(reason LogoutReason) (key, param string) {
	switch reason {
	case LogoutUnknownClient:
		return "logout.error.client", "client_id"
	case LogoutBadHint:
		return "logout.error.hint", "id_token_hint"
	case LogoutClientMismatch:
		return "logout.error.hint_client", "client_id, id_token_hint"
	case LogoutBadRedirect:
		return "logout.error.redirect", "post_logout_redirect_uri"
	case LogoutRedirectWithoutClient:
		return "logout.error.redirect_client", "post_logout_redirect_uri"
	case LogoutUnavailable:
		return "error.server", ""
	default:
		return "logout.error.malformed", ""
	}
}

func (u *UI) loggedOut(w http.ResponseWriter, r *http.Request) {
	if loggedIn(u.session(r)) {
		// Still logged in: this page must not say otherwise, nor end the
		// session (a GET, which any site can send the browser to).
		http.Redirect(w, r, LogoutPath, http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "logged_out", u.newPage(r, u.langs.negotiate(r, nil), "logged_out.title"))
}
