package loginui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// Flow-state keys in the browser session.
const (
	keyPendingMember = "pending_member" // authenticated with a PIN, must set a password
	keyPendingReq    = "pending_req"
)

type loginPage struct {
	page
	AuthRequestID string
	ClientName    string
	MemberNumber  string
	Rules         []member.Violation
}

// request loads the authorization request of the page and binds it to this
// browser session: the first browser to open it owns it, and the id alone
// is no capability for anyone else.
func (u *UI) request(w http.ResponseWriter, r *http.Request, sess *sessions.Session, id string) (storage.AuthRequest, bool) {
	ctx := r.Context()
	if id == "" {
		u.renderError(w, r, http.StatusBadRequest, "error.request_missing")
		return storage.AuthRequest{}, false
	}
	req, err := u.store.AuthRequestByID(ctx, id)
	if err != nil || req.Expired(u.now()) {
		u.renderError(w, r, http.StatusNotFound, "error.request_expired")
		return storage.AuthRequest{}, false
	}
	if req.Done {
		u.renderError(w, r, http.StatusConflict, "error.request_done")
		return storage.AuthRequest{}, false
	}
	if req.BrowserSession == "" {
		if sess.ID == "" {
			if err := u.sessions.Save(r, w, sess); err != nil {
				u.serverError(w, r, err)
				return storage.AuthRequest{}, false
			}
		}
		err := u.store.UpdateAuthRequest(ctx, id, func(a storage.AuthRequest) (storage.AuthRequest, error) {
			if a.BrowserSession != "" && a.BrowserSession != sess.ID {
				return a, errNotYours
			}
			a.BrowserSession = sess.ID
			return a, nil
		})
		if err != nil {
			u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
			return storage.AuthRequest{}, false
		}
		req.BrowserSession = sess.ID
	}
	if req.BrowserSession != sess.ID {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return storage.AuthRequest{}, false
	}
	return req, true
}

var errNotYours = errors.New("auth request bound to another browser")

func (u *UI) session(r *http.Request) *sessions.Session {
	sess, _ := u.sessions.New(r, u.cookie) // New never fails to return a usable session
	return sess
}

// ssoValid reports whether the session holds a login that can answer req
// without asking the member anything.
func (u *UI) ssoValid(ctx context.Context, sess *sessions.Session, req storage.AuthRequest) bool {
	memberID := value(sess, keyMember)
	if memberID == "" {
		return false
	}
	m, err := u.store.MemberByID(ctx, memberID)
	if err != nil || m.Status != storage.MemberActive || m.MustChangePassword {
		return false
	}
	if slices.Contains(req.Prompt, "login") {
		return false
	}
	if !acr.Fresh(authTime(sess), req.MaxAge, u.now()) {
		return false
	}
	return acr.Met(value(sess, keyACR), req.ACRValues)
}

func authTime(sess *sessions.Session) time.Time {
	n, err := strconv.ParseInt(value(sess, keyAuthTime), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func (u *UI) showLogin(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	if u.ssoValid(r.Context(), sess, req) {
		u.complete(w, r, sess, req)
		return
	}
	if slices.Contains(req.Prompt, "none") {
		u.opts.Fail(w, r, req.ID, "login_required", "the member is not logged in or must log in again")
		return
	}
	number := ""
	if n, err := member.ParseNumber(req.LoginHint); err == nil {
		number = n
	}
	u.renderLogin(w, r, req, http.StatusOK, number, "", nil)
}

func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, status int, number, errKey string, errArg any) {
	p := loginPage{
		page:          u.newPage(r, negotiate(r, req.UILocales), "login.title"),
		AuthRequestID: req.ID,
		ClientName:    u.opts.ClientName(r.Context(), req.ClientID),
		MemberNumber:  number,
	}
	p.Error, p.ErrorArg = errKey, errArg
	u.render(w, r, status, "login", p)
}

func (u *UI) postLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	number := r.PostFormValue("member_number")
	res, err := u.opts.Members.Authenticate(ctx, member.LoginInput{
		Number:    number,
		Secret:    r.PostFormValue("password"),
		IP:        clientIP(r),
		UserAgent: r.UserAgent(),
	})
	var throttled *member.ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.5)))
		u.renderLogin(w, r, req, http.StatusTooManyRequests, number, "login.error.throttled", minutes(throttled.RetryAfter))
		return
	case errors.Is(err, member.ErrBusy):
		w.Header().Set("Retry-After", "2")
		u.renderLogin(w, r, req, http.StatusServiceUnavailable, number, "login.error.busy", nil)
		return
	case errors.Is(err, member.ErrPINExpired):
		u.renderLogin(w, r, req, http.StatusUnauthorized, number, "login.error.pin_expired", nil)
		return
	case err != nil:
		if !errors.Is(err, member.ErrInvalidCredentials) {
			u.log.ErrorContext(ctx, "login failed unexpectedly", "err", err)
		}
		u.renderLogin(w, r, req, http.StatusUnauthorized, number, "login.error.invalid", nil)
		return
	}
	if res.MustSetPassword || res.Member.MustChangePassword {
		// The PIN (or a forced reset) got the member this far; the login
		// completes only once a policy-compliant password is set.
		sess.Values[keyPendingMember] = res.Member.ID
		sess.Values[keyPendingReq] = req.ID
		sess.Values["pending_method"] = res.Method
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.serverError(w, r, err)
			return
		}
		http.Redirect(w, r, "/login/password?authRequestID="+req.ID, http.StatusSeeOther)
		return
	}
	amr := acr.AMR(res.Method)
	u.loggedIn(w, r, sess, req, res.Member.ID, acr.Password, amr)
}

func minutes(d time.Duration) int { return max(1, int((d+time.Minute-1)/time.Minute)) }

// loggedIn starts a fresh SSO session (new id: no fixation) and completes
// the request.
func (u *UI) loggedIn(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest, memberID, level string, amr []string) {
	if err := u.sessions.regenerate(r.Context(), sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	for _, k := range []string{keyPendingMember, keyPendingReq, "pending_method"} {
		delete(sess.Values, k)
	}
	sess.Values[keyMember] = memberID
	sess.Values[keyAuthTime] = strconv.FormatInt(u.now().Unix(), 10)
	sess.Values[keyACR] = level
	sess.Values[keyAMR] = strings.Join(amr, " ")
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	u.complete(w, r, sess, req)
}

// complete records the session's login on the request and hands the browser
// back to the provider's callback.
func (u *UI) complete(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) {
	ctx := r.Context()
	amr := []string{}
	if s := value(sess, keyAMR); s != "" {
		amr = strings.Fields(s)
	}
	err := u.store.UpdateAuthRequest(ctx, req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		a.MemberID = value(sess, keyMember)
		a.AuthTime = authTime(sess)
		a.ACR = value(sess, keyACR)
		a.AMR = amr
		a.SessionID = sess.ID
		a.BrowserSession = sess.ID
		a.Done = true
		return a, nil
	})
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, u.opts.Callback(ctx, req.ID), http.StatusFound)
}

func (u *UI) serverError(w http.ResponseWriter, r *http.Request, err error) {
	u.log.ErrorContext(r.Context(), "login UI error", "err", err)
	u.renderError(w, r, http.StatusInternalServerError, "error.server")
}

// GuardCallback lets only the browser that owns a finished request through
// to op's callback, which mints the code.
func (u *UI) GuardCallback(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := u.session(r)
		req, err := u.store.AuthRequestByID(r.Context(), r.URL.Query().Get("id"))
		if err != nil || sess.ID == "" || req.BrowserSession != sess.ID {
			u.RenderError(w, r, http.StatusForbidden, "error.request_foreign", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (u *UI) loggedOut(w http.ResponseWriter, r *http.Request) {
	sess := u.session(r)
	if sess.ID != "" {
		sess.Options.MaxAge = -1
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.log.ErrorContext(r.Context(), "delete session", "err", err)
		}
	}
	u.render(w, r, http.StatusOK, "logged_out", u.newPage(r, negotiate(r, nil), "logged_out.title"))
}
