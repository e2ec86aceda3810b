package loginui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// AccountClientID marks authorization requests the login UI creates for its
// own account pages: they run the same login flow (password, PIN migration,
// one-time password) and return to the account page instead of a client.
const AccountClientID = "tsubasa-account"

type accountPage struct {
	page
	credentialNotes
	Member   storage.Member
	Sections []accountSection
	Notice   string // catalog key of a success message
}

// localPath keeps only a path under /account, so a stored return address
// can never send the browser elsewhere.
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/account") || strings.Contains(u.Path, "..") {
		return "/account"
	}
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// startAccountLogin sends the browser through the login flow and back to
// the account page it asked for, at the level it needs.
func (u *UI) startAccountLogin(w http.ResponseWriter, r *http.Request, level string, maxAge *int64) {
	now := u.now().UTC()
	req := storage.AuthRequest{
		ID:          newSessionID()[:32],
		ClientID:    AccountClientID,
		RedirectURI: localPath(r.URL.RequestURI()),
		Scopes:      []string{"openid"},
		MaxAge:      maxAge,
		CreatedAt:   now,
		ExpiresAt:   now.Add(30 * 60e9),
	}
	if level != "" {
		req.ACRValues = []string{level}
	}
	if err := u.store.CreateAuthRequest(r.Context(), req); err != nil {
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, LoginURL(req.ID), http.StatusSeeOther)
}

// requireMember returns the logged-in member, or starts a login and returns false.
func (u *UI) requireMember(w http.ResponseWriter, r *http.Request) (*sessions.Session, storage.Member, bool) {
	sess := u.session(r)
	m, ok := u.ssoMember(r.Context(), sess)
	if !ok {
		if r.Method == http.MethodGet {
			u.startAccountLogin(w, r, "", nil)
		} else {
			u.renderError(w, r, http.StatusUnauthorized, "error.session_expired")
		}
		return nil, storage.Member{}, false
	}
	return sess, m, true
}

// requireStepUp is requireMember for pages that show or change member
// information: they need a one-time password no older than StepUpMaxAge
// (when the one-time-password feature is enabled).
func (u *UI) requireStepUp(w http.ResponseWriter, r *http.Request) (*sessions.Session, storage.Member, bool) {
	sess, m, ok := u.requireMember(w, r)
	if !ok || !u.stepUp {
		return sess, m, ok
	}
	fresh := u.now().Sub(authTime(sess)) <= u.opts.StepUpMaxAge
	if acr.Satisfies(value(sess, keyACR), acr.OTP) && fresh {
		return sess, m, true
	}
	if r.Method != http.MethodGet {
		u.renderError(w, r, http.StatusUnauthorized, "error.session_expired")
		return nil, storage.Member{}, false
	}
	maxAge := int64(u.opts.StepUpMaxAge.Seconds())
	u.startAccountLogin(w, r, acr.OTP, &maxAge)
	return nil, storage.Member{}, false
}

func (u *UI) accountHome(w http.ResponseWriter, r *http.Request) {
	_, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	p := accountPage{page: u.newPage(r, u.memberLang(r, m), "account.title"), Member: m, Sections: u.sections}
	p.Notice = noticeKey(r)
	p.SignedOut = signedOutKey(r)
	u.render(w, r, http.StatusOK, "account", p)
}

// noticeKey is a success message passed by a redirect (?done=…), limited to
// catalog keys under account.done. so the URL cannot inject text.
func noticeKey(r *http.Request) string {
	d := r.URL.Query().Get("done")
	if d == "" || strings.ContainsAny(d, "./ ") {
		return ""
	}
	return "account.done." + d
}

// memberLang is the page language for a logged-in member: their explicit
// choice (cookie) first, then their profile, then the browser.
func (u *UI) memberLang(r *http.Request, m storage.Member) string {
	if c, err := r.Cookie(langCookie); err == nil && u.langs.has(c.Value) {
		return c.Value
	}
	if u.langs.has(m.Locale) {
		return m.Locale
	}
	return u.langs.negotiate(r, nil)
}

// accountLogout ends the browser's session and revokes its tokens, as
// every logout does (logout.go). POST only, cross-site posts refused.
func (u *UI) accountLogout(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	if sess.ID != "" {
		if err := u.endSession(w, r, sess, "member", ""); err != nil {
			u.serverError(w, r, err)
			return
		}
	}
	http.Redirect(w, r, LogoutURL, http.StatusSeeOther)
}

type changePasswordPage struct {
	page
	newPasswordForm
	credentialNotes
}

func (u *UI) showChangePassword(w http.ResponseWriter, r *http.Request) {
	_, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	u.renderChangePassword(w, r, m, http.StatusOK, "", nil)
}

func (u *UI) renderChangePassword(w http.ResponseWriter, r *http.Request, m storage.Member, status int, errKey string, failed []member.Violation) {
	p := changePasswordPage{page: u.newPage(r, u.memberLang(r, m), "account.password.title"), newPasswordForm: u.newPasswordForm(failed),
		credentialNotes: credentialNotes{Effect: u.credentialEffect()}}
	p.Error = errKey
	u.render(w, r, status, "account_password", p)
}

// postChangePassword changes the password after checking the current one:
// a credential change (every other session ends, every token is revoked),
// after which this browser stays logged in or not as configured.
func (u *UI) postChangePassword(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	current, pw, confirm := r.PostFormValue("password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if pw != confirm {
		u.renderChangePassword(w, r, m, http.StatusUnprocessableEntity, "set_password.error.mismatch", nil)
		return
	}
	ended, err := u.opts.Members.ChangePassword(r.Context(), m.ID, current, pw, changeContext(r, sess, member.ChangePassword))
	var pe *member.PolicyError
	var throttled *member.ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.5)))
		p := changePasswordPage{page: u.newPage(r, u.memberLang(r, m), "account.password.title"), newPasswordForm: u.newPasswordForm(nil),
			credentialNotes: credentialNotes{Effect: u.credentialEffect()}}
		p.Error, p.ErrorArg = "login.error.throttled", minutes(throttled.RetryAfter)
		u.render(w, r, http.StatusTooManyRequests, "account_password", p)
	case errors.As(err, &pe):
		u.renderChangePassword(w, r, m, http.StatusUnprocessableEntity, "set_password.error.policy", pe.Violations)
	case errors.Is(err, member.ErrInvalidCredentials):
		u.renderChangePassword(w, r, m, http.StatusUnauthorized, "account.password.error.current", nil)
	case errors.Is(err, member.ErrSamePassword):
		u.renderChangePassword(w, r, m, http.StatusUnprocessableEntity, "password.error.same", nil)
	case errors.Is(err, member.ErrBusy):
		w.Header().Set("Retry-After", "2")
		u.renderChangePassword(w, r, m, http.StatusServiceUnavailable, "login.error.busy", nil)
	case errors.Is(err, member.ErrCredentialsChanged):
		u.renderChangePassword(w, r, m, http.StatusConflict, "error.credentials_changed", nil)
	case err != nil:
		u.serverError(w, r, err)
	default:
		next, err := u.afterCredentialChange(w, r, sess, ended, "/account?done=password")
		if err != nil {
			u.serverError(w, r, err)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}
