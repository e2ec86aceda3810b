package loginui

import (
	"errors"
	"net/http"

	"tsubasa/provider/acr"
	"tsubasa/provider/member"
)

type setPasswordPage struct {
	page
	AuthRequestID string
	Rules         []member.Violation
	Failed        []member.Violation
}

// showSetPassword asks a member who logged in with the legacy PIN (or must
// change a password) for a new, policy-compliant password.
func (u *UI) showSetPassword(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	if value(sess, keyPendingMember) == "" || value(sess, keyPendingReq) != req.ID {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return
	}
	u.renderSetPassword(w, r, req.ID, negotiate(r, req.UILocales), http.StatusOK, "", nil)
}

func (u *UI) renderSetPassword(w http.ResponseWriter, r *http.Request, reqID, lang string, status int, errKey string, failed []member.Violation) {
	p := setPasswordPage{page: u.newPage(r, lang, "set_password.title"), AuthRequestID: reqID, Rules: u.opts.Members.Policy().Rules(), Failed: failed}
	p.Error = errKey
	u.render(w, r, status, "set_password", p)
}

func (u *UI) postSetPassword(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	memberID := value(sess, keyPendingMember)
	if memberID == "" || value(sess, keyPendingReq) != req.ID {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return
	}
	lang := negotiate(r, req.UILocales)
	pw, confirm := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if pw != confirm {
		u.renderSetPassword(w, r, req.ID, lang, http.StatusUnprocessableEntity, "set_password.error.mismatch", nil)
		return
	}
	err := u.opts.Members.SetPassword(r.Context(), memberID, pw)
	var pe *member.PolicyError
	switch {
	case errors.As(err, &pe):
		u.renderSetPassword(w, r, req.ID, lang, http.StatusUnprocessableEntity, "set_password.error.policy", pe.Violations)
		return
	case err != nil:
		u.serverError(w, r, err)
		return
	}
	method := value(sess, "pending_method")
	u.loggedIn(w, r, sess, req, memberID, acr.Password, acr.AMR(method))
}
