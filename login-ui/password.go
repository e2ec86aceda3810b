package loginui

import (
	"context"
	"errors"
	"net/http"

	"tsubasa/provider/member"
	"tsubasa/storage"

	"github.com/gorilla/sessions"
)

type setPasswordPage struct {
	page
	newPasswordForm
	AuthRequestID string
}

// newPasswordForm is what the shared new-password fields show (the
// new_password_fields block in templates/partials.html): the policy's rules
// and the ones the last attempt failed. Every page that sets a password
// embeds it.
type newPasswordForm struct {
	Rules  []member.Violation
	Failed []member.Violation
}

func (u *UI) newPasswordForm(failed []member.Violation) newPasswordForm {
	return newPasswordForm{Rules: u.opts.Members.Policy().Rules(), Failed: failed}
}

// setPasswordStep makes a member who logged in with the legacy PIN (or must
// change a password) choose a policy-compliant one before the login
// completes. The choice is checked at once and only its hash is held in
// the session; establish stores it once every later step (the one-time
// password) has passed (see credential.go).
func (u *UI) setPasswordStep() step {
	return step{order: 10, name: "set_password", path: "/login/password",
		needed: func(_ context.Context, _ *http.Request, st flowState, _ storage.AuthRequest) (bool, error) {
			return st.SetPass && st.NewHash == "", nil
		}}
}

func (u *UI) showSetPassword(w http.ResponseWriter, r *http.Request) {
	_, req, _, ok := u.setPasswordFlow(w, r, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	u.renderSetPassword(w, r, req.ID, u.langs.negotiate(r, req.UILocales), http.StatusOK, "", nil)
}

// setPasswordFlow is the login in progress for the request, when it is at
// the set-password step and can finish (a second factor it owes can be
// given); otherwise it has answered with the error page.
func (u *UI) setPasswordFlow(w http.ResponseWriter, r *http.Request, reqID string) (*sessions.Session, storage.AuthRequest, flowState, bool) {
	sess := u.session(r)
	req, ok := u.request(w, r, sess, reqID)
	if !ok {
		return nil, req, flowState{}, false
	}
	st, ok := u.flowOrError(w, r, sess, req)
	if !ok {
		return nil, req, st, false
	}
	if !st.SetPass {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return nil, req, st, false
	}
	if u.secondFactorUnavailable(st) {
		u.renderError(w, r, http.StatusForbidden, "login.error.second_factor_unavailable")
		return nil, req, st, false
	}
	return sess, req, st, true
}

func (u *UI) renderSetPassword(w http.ResponseWriter, r *http.Request, reqID, lang string, status int, errKey string, failed []member.Violation) {
	p := setPasswordPage{page: u.newPage(r, lang, "set_password.title"), newPasswordForm: u.newPasswordForm(failed), AuthRequestID: reqID}
	p.Error = errKey
	u.render(w, r, status, "set_password", p)
}

func (u *UI) postSetPassword(w http.ResponseWriter, r *http.Request) {
	sess, req, st, ok := u.setPasswordFlow(w, r, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	lang := u.langs.negotiate(r, req.UILocales)
	pw, confirm := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if pw != confirm {
		u.renderSetPassword(w, r, req.ID, lang, http.StatusUnprocessableEntity, "set_password.error.mismatch", nil)
		return
	}
	hash, err := u.opts.Members.HashNewPassword(r.Context(), st.MemberID, pw)
	var pe *member.PolicyError
	switch {
	case errors.As(err, &pe):
		u.renderSetPassword(w, r, req.ID, lang, http.StatusUnprocessableEntity, "set_password.error.policy", pe.Violations)
		return
	case errors.Is(err, member.ErrSamePassword):
		u.renderSetPassword(w, r, req.ID, lang, http.StatusUnprocessableEntity, "password.error.same", nil)
		return
	case errors.Is(err, member.ErrBusy):
		w.Header().Set("Retry-After", "2")
		u.renderSetPassword(w, r, req.ID, lang, http.StatusServiceUnavailable, "login.error.busy", nil)
		return
	case err != nil:
		u.serverError(w, r, err)
		return
	}
	// Held, not stored: an intruder who knows only the old password gets
	// no further than the next step, and the member's password stays.
	st.NewHash = hash
	u.updateFlow(w, r, sess, req, st)
}
