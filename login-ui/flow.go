package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

type loginPage struct {
	page
	AuthRequestID string
	ClientName    string
	MemberNumber  string
	Extra         []string // names of feature blocks to show (e.g. "passkey")
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
	if storage.Unavailable(err) {
		u.serverError(w, r, err) // the request may be fine: try again, not start again
		return storage.AuthRequest{}, false
	}
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
		if err := u.store.UpdateAuthRequest(ctx, id, bindTo(sess.ID)); storage.Unavailable(err) {
			u.serverError(w, r, err)
			return storage.AuthRequest{}, false
		} else if err != nil {
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

func (u *UI) session(r *http.Request) *sessions.Session {
	sess, _ := u.sessions.New(r, u.cookie) // New always returns a usable session
	return sess
}

// ssoSession is the browser's session for the SSO answer alone, maybe
// from the store's session cache (sessionStore.newCached): never saved.
func (u *UI) ssoSession(r *http.Request) *sessions.Session {
	sess, _ := u.sessions.newCached(r, u.cookie)
	return sess
}

// ssoMember returns the member of a valid SSO session, if any.
func (u *UI) ssoMember(ctx context.Context, sess *sessions.Session) (storage.Member, bool) {
	memberID := value(sess, keyMember)
	if memberID == "" {
		return storage.Member{}, false
	}
	m, err := u.store.MemberByID(ctx, memberID)
	if err != nil || m.Status != storage.MemberActive || m.MustChangePassword {
		return storage.Member{}, false
	}
	// A session from before a credential change is no login, even where
	// its record outlived the change (every session is deleted with it).
	if value(sess, keyStamp) != m.SecurityStamp {
		return storage.Member{}, false
	}
	return m, true
}

func authTime(sess *sessions.Session) time.Time {
	n, err := strconv.ParseInt(value(sess, keyAuthTime), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// showLogin decides what a request needs: an answer from the SSO session,
// a step-up on top of it, login_required for prompt=none, or the form.
func (u *UI) showLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	if m, ok, met := u.ssoLogin(ctx, sess, req); ok {
		if met {
			u.finish(w, r, sess, req)
			return
		}
		if slices.Contains(req.Prompt, "none") {
			// Logged in, but a stronger method needs the member's interaction.
			u.opts.Fail(w, r, req.ID, "interaction_required", "the requested authentication level needs the member's interaction")
			return
		}
		// Logged in, but not strongly enough: step up from the session.
		u.beginFlow(sess, req, flowState{MemberID: m.ID, AMR: strings.Fields(value(sess, keyAMR)), ACR: value(sess, keyACR), StepUp: true, Stamp: m.SecurityStamp})
		u.advance(w, r, sess, req)
		return
	}
	if slices.Contains(req.Prompt, "none") {
		u.opts.Fail(w, r, req.ID, "login_required", "the member is not logged in, or must log in again or more strongly")
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
		page:          u.newPage(r, u.langs.negotiate(r, req.UILocales), "login.title"),
		AuthRequestID: req.ID,
		ClientName:    u.clientName(r.Context(), req),
		MemberNumber:  number,
		Extra:         u.loginExtras,
	}
	p.Error, p.ErrorArg = errKey, errArg
	u.render(w, r, status, "login", p)
}

func (u *UI) clientName(ctx context.Context, req storage.AuthRequest) string {
	if req.ClientID == AccountClientID {
		return ""
	}
	return u.opts.ClientName(ctx, req.ClientID)
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
		DeviceID:  u.deviceID(r),
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
	case storage.Unavailable(err):
		// Nothing was checked: "try again in a moment", never "wrong
		// number or password" (the same answer whether the number exists).
		u.log.ErrorContext(ctx, "login failed: storage unavailable", "err", err)
		w.Header().Set("Retry-After", "2")
		u.renderLogin(w, r, req, http.StatusServiceUnavailable, number, "login.error.busy", nil)
		return
	case err != nil:
		if !errors.Is(err, member.ErrInvalidCredentials) {
			u.log.ErrorContext(ctx, "login failed unexpectedly", "err", err)
		}
		u.renderLogin(w, r, req, http.StatusUnauthorized, number, "login.error.invalid", nil)
		return
	}
	for _, h := range u.onForm {
		h(r, sess, req)
	}
	u.beginFlow(sess, req, flowState{
		MemberID: res.Member.ID,
		AMR:      acr.AMR(res.Method),
		ACR:      acr.Password,
		SetPass:  res.MustSetPassword || res.Member.MustChangePassword,
		Stamp:    res.Member.SecurityStamp,
	})
	u.advance(w, r, sess, req)
}

func minutes(d time.Duration) int { return max(1, int((d+time.Minute-1)/time.Minute)) }

// advance sends the browser to the first step the login still needs, or
// establishes the login when none is left.
func (u *UI) advance(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) {
	ctx := r.Context()
	st, ok := u.flowOrError(w, r, sess, req)
	if !ok {
		return
	}
	for _, s := range u.before {
		need, err := s.needed(ctx, r, st, req)
		if err != nil {
			u.serverError(w, r, err)
			return
		}
		if need {
			if err := u.sessions.Save(r, w, sess); err != nil {
				u.serverError(w, r, err)
				return
			}
			http.Redirect(w, r, s.path+"?authRequestID="+url.QueryEscape(req.ID), http.StatusSeeOther)
			return
		}
	}
	u.establish(w, r, sess, req, st)
}

// establish stores what the login changed (settleCredentials), starts a
// fresh SSO session (a new id: no fixation) holding what the member proved
// and the member's security stamp, runs the login hooks, then finishes the
// request.
func (u *UI) establish(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest, st flowState) {
	st, ok := u.settleCredentials(w, r, sess, st)
	if !ok {
		return
	}
	if err := u.sessions.regenerate(r.Context(), sess, st.MemberID); err != nil {
		u.serverError(w, r, err)
		return
	}
	clearFlow(sess)
	sess.Values[keyStamp] = st.Member.SecurityStamp
	sess.Values[keyMember] = st.MemberID
	sess.Values[keyAuthTime] = strconv.FormatInt(u.now().Unix(), 10)
	sess.Values[keyACR] = st.ACR
	sess.Values[keyAMR] = strings.Join(st.AMR, " ")
	sess.Values[keyFreshLogin] = req.ID // nudge.go: after-login nudges follow this login only
	u.metrics().Login(loginMethod(st.AMR))
	for _, h := range u.onLogin {
		if err := h(w, r, sess, st, req); err != nil {
			u.serverError(w, r, err)
			return
		}
	}
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	// The session has a new id: the request belongs to it from now on, so the
	// steps after login (consent) and the callback find it bound to this browser.
	if err := u.rebind(r.Context(), req, sess.ID); err != nil {
		u.serverError(w, r, err)
		return
	}
	req.BrowserSession = sess.ID
	u.finish(w, r, sess, req)
}

// finish runs the steps that follow an established login (consent), then
// completes the request.
func (u *UI) finish(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) {
	ctx := r.Context()
	st := flowState{ReqID: req.ID, MemberID: value(sess, keyMember), ACR: value(sess, keyACR), AMR: strings.Fields(value(sess, keyAMR)), sess: sess}
	if m, err := u.store.MemberByID(ctx, st.MemberID); err == nil {
		st.Member = m
	}
	for _, s := range u.after {
		need, err := s.needed(ctx, r, st, req)
		if err != nil {
			u.serverError(w, r, err)
			return
		}
		if need {
			if !u.bindForStep(w, r, sess, req) {
				return
			}
			if slices.Contains(req.Prompt, "none") {
				u.opts.Fail(w, r, req.ID, s.name+"_required", "the member must "+s.name+" first")
				return
			}
			http.Redirect(w, r, s.path+"?authRequestID="+url.QueryEscape(req.ID), http.StatusSeeOther)
			return
		}
	}
	u.complete(w, r, sess, req)
}

// complete records the session's login on the request and answers it to
// the relying party (through the provider's callback when Options.Answer
// is unset; for the account pages' own logins, back to the account page
// that asked).
func (u *UI) complete(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) {
	ctx := r.Context()
	if req.ClientID == AccountClientID {
		_ = u.store.DeleteAuthRequest(ctx, req.ID)
		http.Redirect(w, r, localPath(req.RedirectURI), http.StatusSeeOther)
		return
	}
	if req.DeviceGrant != "" && u.device != nil {
		u.device.complete(w, r, sess, req) // device.go: the grant approved, no code
		return
	}
	var done storage.AuthRequest
	err := u.store.UpdateAuthRequest(ctx, req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		if req.BrowserSession == "" && a.BrowserSession != "" && a.BrowserSession != sess.ID {
			// Answered from the SSO session unbound (answerFromSession):
			// this write binds it, and another browser that bound it
			// meanwhile keeps it, as bindTo decides.
			return a, errNotYours
		}
		a.MemberID = value(sess, keyMember)
		a.AuthTime = authTime(sess)
		a.ACR = value(sess, keyACR)
		a.AMR = strings.Fields(value(sess, keyAMR))
		a.SessionID = sess.ID
		a.BrowserSession = sess.ID
		a.MemberStamp = value(sess, keyStamp)
		a.Done = true
		done = a // fn may run again: the last run is what was stored
		return a, nil
	})
	if errors.Is(err, errNotYours) {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return
	}
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	// The answer within this request reads it from here, not the database.
	storage.HandOffAuthRequest(ctx, done)
	if u.opts.Answer != nil {
		u.opts.Answer(w, r, req.ID)
		return
	}
	http.Redirect(w, r, u.opts.Callback(ctx, req.ID), http.StatusFound)
}

// serverError answers a request that failed on our side with the error
// page: 503 with Retry-After when storage did not answer (nothing was
// decided; the page's "try again later" is then exactly right), 500
// otherwise.
func (u *UI) serverError(w http.ResponseWriter, r *http.Request, err error) {
	u.log.ErrorContext(r.Context(), "login UI error", "err", err)
	if storage.Unavailable(err) {
		w.Header().Set("Retry-After", "2")
		u.renderError(w, r, http.StatusServiceUnavailable, "error.server")
		return
	}
	u.renderError(w, r, http.StatusInternalServerError, "error.server")
}

// GuardCallback lets only the browser that owns a finished request through
// to op's callback, which mints the code.
func (u *UI) GuardCallback(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := u.session(r)
		req, err := u.store.AuthRequestByID(r.Context(), r.URL.Query().Get("id"))
		if storage.Unavailable(err) {
			u.serverError(w, r, err) // not "another browser's request"
			return
		}
		if err != nil || sess.ID == "" || req.BrowserSession != sess.ID {
			u.RenderError(w, r, http.StatusForbidden, "error.request_foreign", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}
