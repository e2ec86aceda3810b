package loginui

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/member"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// Forgot password, with the otp feature ("Forgot your password?" on the
// login page; ?authRequestID= is optional and only decides where the
// member goes afterwards):
//
//	GET  /login/reset              membership number form
//	POST /login/reset              look the member up; a code to a confirmed contact (in the background)
//	GET  /login/reset/code         code entry
//	POST /login/reset/code         right code: on to the new password
//	POST /login/reset/code/resend  another code
//	GET  /login/reset/password     new password form (the policy's rules listed)
//	POST /login/reset/password     set it (every session ends, every token is revoked); then the member logs in
//
// The pages never tell whether a number belongs to a member, or has a
// contact: every number gets the same answer after the same work (one
// lookup; the send runs after the answer), the code page never says where
// a code went, and every wrong entry gets the same message, with no count
// of attempts left. An unknown number is carried on as a random id no code
// can match.

const (
	resetPath       = "/login/reset"
	keyResetMember  = "reset_member"
	keyResetReq     = "reset_req"
	keyResetOK      = "reset_ok"    // member id and unix time of the right code
	keyResetStamp   = "reset_stamp" // the member's security stamp when the code was right
	resetWindow     = 10 * time.Minute
	resetSendBudget = 30 * time.Second
)

type resetPage struct {
	page
	newPasswordForm        // the password stage
	Stage           string // number, password, done
	AuthRequestID   string
	Number          string
	LoginURL        string
}

func (u *UI) renderReset(w http.ResponseWriter, r *http.Request, status int, p resetPage) {
	title := map[string]string{"number": "reset.title", "password": "reset.password.title", "done": "reset.done.title"}[p.Stage]
	errKey := p.Error
	p.page = u.newPage(r, u.langs.negotiate(r, nil), title)
	p.Error = errKey
	if p.Stage == "password" {
		p.newPasswordForm = u.newPasswordForm(p.Failed)
	}
	u.render(w, r, status, "reset", p)
}

// resetRequest is the optional authorization request the reset came from:
// only its id, checked again when the member logs in.
func resetRequest(v string) string {
	if len(v) > 128 || strings.ContainsAny(v, "/?#&") {
		return ""
	}
	return v
}

func (u *UI) showReset(w http.ResponseWriter, r *http.Request) {
	u.renderReset(w, r, http.StatusOK, resetPage{Stage: "number", AuthRequestID: resetRequest(r.URL.Query().Get("authRequestID"))})
}

func (u *UI) postReset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reqID := resetRequest(r.PostFormValue("authRequestID"))
	number, err := member.ParseNumber(r.PostFormValue("member_number"))
	if err != nil {
		p := resetPage{Stage: "number", AuthRequestID: reqID, Number: r.PostFormValue("member_number")}
		p.Error = "reset.error.number"
		u.renderReset(w, r, http.StatusUnprocessableEntity, p)
		return
	}
	id := "unknown-" + rand.Text() // matches no member: Verify finds no challenge
	m, err := u.store.MemberByNumber(ctx, number)
	switch {
	case err == nil && m.Status == storage.MemberActive:
		id = m.ID
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		u.serverError(w, r, err)
		return
	}
	sess := u.session(r)
	for _, k := range []string{keyResetOK, chKey(otp.PurposeReset)} {
		delete(sess.Values, k)
	}
	sess.Values[keyResetMember] = id
	sess.Values[keyResetReq] = reqID
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	if id == m.ID {
		u.sendReset(ctx, r, m, u.langs.negotiate(r, nil))
	}
	http.Redirect(w, r, resetPath+"/code", http.StatusSeeOther)
}

// sendReset sends the code after the answer, so neither the time a send
// takes nor its failure tells anything about the number.
func (u *UI) sendReset(ctx context.Context, r *http.Request, m storage.Member, lang string) {
	ip := clientIP(r)
	go func() {
		// Without the request's unit (storage.Units): a write from here
		// would otherwise carry the request's held writes (its session)
		// into a commit the answer does not wait for, and the browser's
		// next request could miss the session.
		ctx, cancel := context.WithTimeout(storage.Direct(context.WithoutCancel(ctx)), resetSendBudget)
		defer cancel()
		_, err := u.otp.Service.Issue(ctx, otp.IssueRequest{Member: m, Purpose: otp.PurposeReset, Locale: lang, IP: ip})
		switch key := otp.CatalogKey(err); {
		case err == nil:
		case key != "":
			u.log.InfoContext(ctx, "password reset code not sent", "member_id", m.ID, "reason", key)
		default:
			u.log.ErrorContext(ctx, "password reset code not sent", "member_id", m.ID, "err", err)
		}
	}()
}

// resetEntry is the code page of the reset in this session, if any.
func (u *UI) resetEntry(r *http.Request, sess *sessions.Session) (otpEntry, bool) {
	id := value(sess, keyResetMember)
	if id == "" {
		return otpEntry{}, false
	}
	reqID := value(sess, keyResetReq)
	cancel := resetPath
	if reqID != "" {
		cancel = LoginURL(reqID)
	}
	return otpEntry{
		sess: sess, titleKey: "reset.code.title", leadKey: "reset.code.lead", lang: u.langs.negotiate(r, nil),
		member: storage.Member{ID: id}, purpose: otp.PurposeReset, generic: true,
		action: resetPath + "/code", resend: resetPath + "/code/resend", cancel: cancel,
	}, true
}

func (u *UI) showResetCode(w http.ResponseWriter, r *http.Request) {
	e, ok := u.resetEntry(r, u.session(r))
	if !ok {
		http.Redirect(w, r, resetPath, http.StatusSeeOther)
		return
	}
	u.renderEntry(w, r, e, http.StatusOK, entryState{open: true})
}

func (u *UI) resendResetCode(w http.ResponseWriter, r *http.Request) {
	e, ok := u.resetEntry(r, u.session(r))
	if !ok {
		http.Redirect(w, r, resetPath, http.StatusSeeOther)
		return
	}
	if m, err := u.store.MemberByID(r.Context(), e.member.ID); err == nil && m.Status == storage.MemberActive {
		u.sendReset(r.Context(), r, m, e.lang)
	}
	u.renderEntry(w, r, e, http.StatusOK, entryState{open: true, sent: true})
}

func (u *UI) postResetCode(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	e, ok := u.resetEntry(r, sess)
	if !ok {
		http.Redirect(w, r, resetPath, http.StatusSeeOther)
		return
	}
	if _, ok := u.verifyEntry(w, r, e); !ok {
		return
	}
	m, err := u.store.MemberByID(r.Context(), e.member.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	sess.Values[keyResetOK] = e.member.ID + " " + strconv.FormatInt(u.now().Unix(), 10)
	// The new password is stored only if nothing changed since the code
	// was right (another reset, "this wasn't me").
	sess.Values[keyResetStamp] = m.SecurityStamp
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, resetPath+"/password", http.StatusSeeOther)
}

// resetMember is the member whose code was right, within resetWindow.
func (u *UI) resetMember(sess *sessions.Session) (string, bool) {
	id, at, ok := strings.Cut(value(sess, keyResetOK), " ")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id != value(sess, keyResetMember) {
		return "", false
	}
	age := u.now().Sub(time.Unix(n, 0))
	return id, age >= 0 && age <= resetWindow
}

func (u *UI) showResetPassword(w http.ResponseWriter, r *http.Request) {
	if _, ok := u.resetMember(u.session(r)); !ok {
		http.Redirect(w, r, resetPath, http.StatusSeeOther)
		return
	}
	u.renderReset(w, r, http.StatusOK, resetPage{Stage: "password"})
}

func (u *UI) postResetPassword(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	id, ok := u.resetMember(sess)
	if !ok {
		u.renderError(w, r, http.StatusForbidden, "reset.error.expired")
		return
	}
	pw, confirm := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	fail := func(status int, key string, failed []member.Violation) {
		p := resetPage{Stage: "password", newPasswordForm: newPasswordForm{Failed: failed}}
		p.Error = key
		u.renderReset(w, r, status, p)
	}
	if pw != confirm {
		fail(http.StatusUnprocessableEntity, "set_password.error.mismatch", nil)
		return
	}
	c := changeContext(r, nil, member.ChangeReset)
	c.Guard, c.Stamp = true, value(sess, keyResetStamp)
	_, err := u.opts.Members.SetPassword(r.Context(), id, pw, c)
	var pe *member.PolicyError
	switch {
	case errors.As(err, &pe):
		fail(http.StatusUnprocessableEntity, "set_password.error.policy", pe.Violations)
		return
	case errors.Is(err, member.ErrSamePassword):
		fail(http.StatusUnprocessableEntity, "password.error.same", nil)
		return
	case errors.Is(err, member.ErrBusy):
		w.Header().Set("Retry-After", "2")
		fail(http.StatusServiceUnavailable, "login.error.busy", nil)
		return
	case errors.Is(err, member.ErrCredentialsChanged):
		u.endReset(w, r, sess)
		u.renderError(w, r, http.StatusConflict, "error.credentials_changed")
		return
	case err != nil:
		u.serverError(w, r, err)
		return
	}
	// The reset ended every session of the member and revoked every token
	// (a reset often follows a compromise). This browser's session goes on
	// unless it was one of them.
	reqID := value(sess, keyResetReq)
	if !u.endReset(w, r, sess) {
		reqID = ""
	}
	next := "/account"
	if reqID != "" {
		next = LoginURL(reqID)
	}
	http.Redirect(w, r, resetPath+"/done?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// showResetDone says the password is set and leads to the login: the
// request's login page, or the account pages (which start their own).
func (u *UI) showResetDone(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/login?authRequestID=") {
		next = localPath(next)
	}
	u.renderReset(w, r, http.StatusOK, resetPage{Stage: "done", LoginURL: next})
}

// StageIs is whether the page shows stage s.
func (p resetPage) StageIs(s string) bool { return p.Stage == s }

// endReset forgets the reset in this browser's session. It reports false
// when the session itself is gone (it was the member's own, ended by the
// reset): then the cookie goes too, and with it the login request the
// session was bound to.
func (u *UI) endReset(w http.ResponseWriter, r *http.Request, sess *sessions.Session) bool {
	for _, k := range []string{keyResetOK, keyResetMember, keyResetReq, keyResetStamp, chKey(otp.PurposeReset)} {
		delete(sess.Values, k)
	}
	err := u.sessions.Save(r, w, sess)
	if err == nil {
		return true
	}
	if !errors.Is(err, errSessionGone) {
		u.log.ErrorContext(r.Context(), "reset: save session", "err", err)
	}
	sess.Options.MaxAge = -1
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.log.ErrorContext(r.Context(), "reset: drop session cookie", "err", err)
	}
	return false
}
