package loginui

import (
	"errors"
	"net/http"
	"net/url"

	"tsubasa/provider/otp"
	"tsubasa/provider/passkey"
	"tsubasa/storage"
)

// The offer's ceremony: the JSON calls of the offer page's script, as the
// account page's registration (passkey_account.go) but bound to the
// authorization request, whose page is where the script comes back to.

// offerCall checks a JSON call of the offer page: a script's fetch, for a
// request bound to this browser whose login the session made, by a member
// who may create a passkey now. It answers the JSON error itself (with
// where the page should go: the code gate, or the login page) otherwise.
func (f *passkeyFeature) offerCall(w http.ResponseWriter, r *http.Request) (storage.AuthRequest, storage.Member, bool) {
	u := f.u
	sess := u.session(r)
	req, ok := f.loginRequest(w, r, sess)
	if !ok {
		return req, storage.Member{}, false
	}
	lang := u.langs.negotiate(r, req.UILocales)
	m, ok := u.ssoMember(r.Context(), sess)
	switch {
	case !ok || !freshLogin(sess, req):
		writeJSON(w, http.StatusUnauthorized, jsonError{Error: "session_expired", Message: u.cat.T(lang, "error.session_expired"), Location: LoginURL(req.ID)})
		return req, m, false
	case !f.offerGate(sess, m):
		writeJSON(w, http.StatusUnauthorized, jsonError{Error: "otp_required", Location: f.gateURL(req)})
		return req, m, false
	}
	return req, m, true
}

func (f *passkeyFeature) beginOffer(w http.ResponseWriter, r *http.Request) {
	req, m, ok := f.offerCall(w, r)
	if !ok {
		return
	}
	options, state, err := f.Service.BeginRegistration(r.Context(), m)
	if errors.Is(err, passkey.ErrMemberInactive) {
		writeJSON(w, http.StatusForbidden, jsonError{Error: "inactive", Message: f.u.cat.T(f.u.memberLang(r, m), "passkey.offer.error")})
		return
	}
	if err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	sess := f.u.session(r)
	f.putState(sess, keyOfferReg+req.ID, state)
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	writeOptions(w, options)
}

func (f *passkeyFeature) finishOffer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, m, ok := f.offerCall(w, r)
	if !ok {
		return
	}
	fail := func(status int, code, key string) {
		writeJSON(w, status, jsonError{Error: code, Message: f.u.cat.T(f.u.memberLang(r, m), key)})
	}
	// Spend the state first, whatever follows: one Finish per Begin.
	sess := f.u.session(r)
	state := f.takeState(sess, keyOfferReg+req.ID)
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	if state == "" {
		fail(http.StatusBadRequest, "no_ceremony", "passkey.offer.error")
		return
	}
	body, ok := readCredential(r)
	if !ok {
		fail(http.StatusBadRequest, "bad_request", "passkey.offer.error")
		return
	}
	p, err := f.Service.FinishRegistration(ctx, m, state, body, "", r.UserAgent())
	switch {
	case errors.Is(err, passkey.ErrAlreadyRegistered):
		fail(http.StatusConflict, "already_registered", "passkey.error.already")
		return
	case err != nil:
		f.u.log.InfoContext(ctx, "passkey registration refused", "reason", passkey.Reason(err), "member_id", m.ID, "err", err, "offer", true)
		fail(http.StatusBadRequest, "passkey_failed", "passkey.offer.error")
		return
	}
	f.u.log.InfoContext(ctx, "passkey registered", "member_id", m.ID, "synced", passkey.IsSynced(p), "offer", true)
	f.u.metrics().PasskeyOffer("accepted")
	// The code that allowed this passkey is spent, as on the account
	// pages, whether the gate's or the login's own.
	delete(sess.Values, gateKey(otp.PurposePasskey))
	sess.Values[keyLoginCodeSpent] = value(sess, keyAuthTime)
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": offerPath + "/continue?authRequestID=" + url.QueryEscape(req.ID)})
}
