package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/sessions"

	"tsubasa/provider/audit"
	"tsubasa/provider/passkey"
	"tsubasa/storage"
)

// Passkey login (usernameless): the login page's script asks for options,
// lets the browser pick a passkey (the button, or the member-number field's
// autofill), and posts the credential. A verified passkey is a primary
// authentication like a password: beginFlow records it (acr phr, amr from
// the passkey) and the browser is sent to /login/passkey/continue, which
// runs advance, so the same steps (set a new password when one is forced),
// risk assessment, login alerts and consent follow as after a password.
// A fetch cannot follow advance's redirect as a page would, hence the
// extra hop.
//
// Lockout: a locked or disabled account cannot log in with a passkey
// (FinishLogin refuses it, and the flow needs an active member). The
// temporary throttle after wrong passwords does not apply: it slows down
// guessing, and a passkey cannot be guessed; a member whose password is
// under attack can still log in with one. A refused passkey login goes to
// the member's login history (login.failed, method passkey) when the
// response names a member, as a wrong password does.

// loginRequest checks a passkey login call: it must be a JSON call, and
// its authorization request must exist, be open and already be bound to
// this browser (by the login page that runs the script). It answers the
// JSON error itself and returns false otherwise.
func (f *passkeyFeature) loginRequest(w http.ResponseWriter, r *http.Request, sess *sessions.Session) (storage.AuthRequest, bool) {
	id := r.URL.Query().Get("authRequestID")
	fail := func(status int, code string) (storage.AuthRequest, bool) {
		writeJSON(w, status, jsonError{Error: code, Message: f.u.cat.T(f.u.langs.negotiate(r, nil), "error."+code)})
		return storage.AuthRequest{}, false
	}
	if id == "" {
		return fail(http.StatusBadRequest, "request_missing")
	}
	req, err := f.u.store.AuthRequestByID(r.Context(), id)
	switch {
	case err != nil || req.Expired(f.u.now()):
		return fail(http.StatusNotFound, "request_expired")
	case req.Done:
		return fail(http.StatusConflict, "request_done")
	case sess.ID == "" || req.BrowserSession != sess.ID:
		return fail(http.StatusForbidden, "request_foreign")
	}
	if !jsonCall(r) {
		f.loginFailure(w, r, req, http.StatusUnsupportedMediaType, "bad_request", false)
		return storage.AuthRequest{}, false
	}
	return req, true
}

// loginFailure is the one answer to every failed passkey login.
func (f *passkeyFeature) loginFailure(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, status int, code string, unknown bool) {
	writeJSON(w, status, jsonError{
		Error:             code,
		Message:           f.u.cat.T(f.u.langs.negotiate(r, req.UILocales), "passkey.login.error"),
		UnknownCredential: unknown,
	})
}

func (f *passkeyFeature) beginLogin(w http.ResponseWriter, r *http.Request) {
	sess := f.u.session(r)
	req, ok := f.loginRequest(w, r, sess)
	if !ok {
		return
	}
	options, state, err := f.Service.BeginLogin(r.Context())
	if err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	f.putState(sess, keyPasskeyLogin+req.ID, state)
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	writeOptions(w, options)
}

func (f *passkeyFeature) finishLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := f.u.session(r)
	req, ok := f.loginRequest(w, r, sess)
	if !ok {
		return
	}
	// Spend the state first, whatever follows: one Finish per Begin.
	state := f.takeState(sess, keyPasskeyLogin+req.ID)
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	if state == "" {
		f.loginFailure(w, r, req, http.StatusBadRequest, "no_ceremony", false)
		return
	}
	body, ok := readCredential(r)
	if !ok {
		f.loginFailure(w, r, req, http.StatusBadRequest, "bad_request", false)
		return
	}
	m, _, amr, err := f.Service.FinishLogin(ctx, state, body)
	if err != nil {
		f.recordFailure(ctx, r, req, body, err)
		f.loginFailure(w, r, req, http.StatusUnauthorized, "passkey_failed", errors.Is(err, passkey.ErrUnknownCredential))
		return
	}
	f.u.beginFlow(sess, req, flowState{
		MemberID: m.ID,
		AMR:      amr,
		ACR:      passkey.ACR,
		// A password the member must replace ("this wasn't me", a reset
		// by an operator) is replaced first, however the member logs in.
		SetPass: m.MustChangePassword,
		Stamp:   m.SecurityStamp,
	})
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/login/passkey/continue?authRequestID=" + url.QueryEscape(req.ID)})
}

// continueLogin takes a verified passkey login on through the same steps
// as a password login.
func (f *passkeyFeature) continueLogin(w http.ResponseWriter, r *http.Request) {
	sess := f.u.session(r)
	req, ok := f.u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	f.u.advance(w, r, sess, req)
}

// recordFailure logs a refused passkey login and, when the response names
// a member (its user handle), records it in their login history as a
// password failure is. Nothing about the member is trusted from it.
func (f *passkeyFeature) recordFailure(ctx context.Context, r *http.Request, req storage.AuthRequest, body []byte, err error) {
	reason := passkey.Reason(err)
	level := f.u.log.InfoContext
	if reason == "error" || errors.Is(err, passkey.ErrCloned) {
		level = f.u.log.WarnContext
	}
	m, named := f.Service.Claimant(ctx, body)
	level(ctx, "passkey login refused", "reason", reason, "member_id", m.ID, "err", err)
	if !named || f.u.risk == nil {
		return
	}
	e := storage.Event{
		Type: audit.EventLoginFailed, MemberID: m.ID, ClientID: req.ClientID,
		IP: clientIP(r), UserAgent: r.UserAgent(), Method: passkey.Method, Reason: reason,
	}
	if err := f.u.risk.Audit.Record(ctx, e); err != nil {
		f.u.log.ErrorContext(ctx, "audit event not written", "type", e.Type, "err", err)
	}
}

// jsonServerError answers a fetch whose handling failed on our side.
func (f *passkeyFeature) jsonServerError(w http.ResponseWriter, r *http.Request, err error) {
	f.u.log.ErrorContext(r.Context(), "passkey: server error", "err", err)
	writeJSON(w, http.StatusInternalServerError, jsonError{Error: "server", Message: f.u.cat.T(f.u.langs.negotiate(r, nil), "error.server")})
}
