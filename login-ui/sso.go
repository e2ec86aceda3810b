package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// SSO wraps the provider's /authorize endpoint. op sends every request to
// the login page, where a browser whose SSO session satisfies it is
// answered at once. When that is so, SSO puts the answer (the redirect to
// the relying party with the code, or to the consent page) in /authorize's
// own response, and the browser skips two round trips. Otherwise op's
// redirect to the login page goes out unchanged, and the page decides as
// before: a login form, a step-up, or login_required for prompt=none.
func (u *UI) SSO(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(u.cookie); err != nil || c.Value == "" {
			next.ServeHTTP(w, r) // no session to answer from
			return
		}
		// op creates the request, this answers it, and the provider
		// mints its code, all in this one HTTP request: each hands the
		// next what it stored instead of a read back, and a backend
		// shared by replicas may store the request only once, in its
		// final state (storage.WithDeferredHandoff). Whatever answer goes
		// out, the request is stored before its first byte, or the
		// answer is the server-error page.
		ctx := storage.WithDeferredHandoff(r.Context())
		r = r.WithContext(ctx)
		fw := u.holdAnswer(w, r, func() error { return storage.FlushHandoff(ctx) })
		defer fw.finish()
		hw := &loginRedirect{ResponseWriter: fw}
		next.ServeHTTP(hw, r)
		if hw.id == "" {
			return // op answered itself: an error, or not for the login page
		}
		if !u.answerFromSession(fw, r, hw.id) {
			http.Redirect(fw, r, LoginURL(hw.id), http.StatusFound)
		}
	})
}

// answerFromSession answers request id as the login page would when the
// browser's SSO session satisfies it without the member's interaction,
// and reports whether it did. It writes nothing when it did not.
func (u *UI) answerFromSession(w http.ResponseWriter, r *http.Request, id string) bool {
	ctx := r.Context()
	// From the session cache where the store keeps one: every check
	// below only grows more cautious with an older copy (a login older
	// than max_age allows, a weaker method than acr_values asks), and the
	// login page then decides on the stored session. A session ended on
	// any replica is not answered from after the store's revocation delay.
	sess := u.ssoSession(r)
	if sess.ID == "" {
		return false
	}
	req, ok := storage.HandedAuthRequest(ctx, id) // op created it just now
	if !ok {
		var err error
		if req, err = u.store.AuthRequestByID(ctx, id); err != nil {
			return false
		}
	}
	if req.Expired(u.now()) || req.Done || req.BrowserSession != "" {
		return false
	}
	if _, ok, met := u.ssoLogin(ctx, sess, req); !ok || !met {
		return false
	}
	// Still unbound here (req.BrowserSession is ""): finish binds it to
	// this browser in the write that answers it (complete), or first,
	// when a step comes before the answer (bindForStep). One update of the
	// request instead of two on the SSO path, where PostgreSQL pays two
	// round trips per update; the owner check is bindTo's either way.
	u.setSecurityHeaders(w, r)
	u.finish(w, r, sess, req)
	return true
}

// loginRedirect holds back op's redirect to the login page (recording the
// request's id) and passes every other answer through.
type loginRedirect struct {
	http.ResponseWriter
	id string
}

func (w *loginRedirect) WriteHeader(code int) {
	if w.id == "" && code == http.StatusFound {
		if id, ok := loginRequestID(w.Header().Get("Location")); ok {
			w.id = id
			w.Header().Del("Location")
			w.Header().Del("Content-Type")
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loginRedirect) Write(b []byte) (int, error) {
	if w.id != "" {
		return len(b), nil // the held redirect's little HTML body
	}
	return w.ResponseWriter.Write(b)
}

func (w *loginRedirect) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// loginRequestID returns the request id of a LoginURL.
func loginRequestID(location string) (string, bool) {
	rest, ok := strings.CutPrefix(location, loginURLPrefix)
	if !ok {
		return "", false
	}
	id, err := url.QueryUnescape(rest)
	if err != nil || id == "" || LoginURL(id) != location {
		return "", false
	}
	return id, true
}

// ssoLogin reports whether the browser's SSO session may answer req: a
// member logged in, no prompt=login, recent enough for max_age, and the
// member an id_token_hint names, if any. met says whether the session is
// also strong enough for acr_values.
func (u *UI) ssoLogin(ctx context.Context, sess *sessions.Session, req storage.AuthRequest) (m storage.Member, ok, met bool) {
	m, ok = u.ssoMember(ctx, sess)
	if !ok || slices.Contains(req.Prompt, "login") || !acr.Fresh(authTime(sess), req.MaxAge, u.now()) || !u.hinted(ctx, req, m) {
		return storage.Member{}, false, false
	}
	return m, true, acr.Met(value(sess, keyACR), req.ACRValues)
}

// hinted reports whether m is the member req's id_token_hint names (true
// without a hint). A relying party that names a member by an ID token it
// holds is never answered with another member's session: OpenID Connect
// Core 1.0 §3.1.2.1 has the provider answer positively only if that
// member is logged in or logs in now. The login page then asks; with
// prompt=none the answer is login_required. The hint's sub is the one the
// client saw, pairwise for a third party, so the session's member is
// compared in the same form.
func (u *UI) hinted(ctx context.Context, req storage.AuthRequest, m storage.Member) bool {
	return req.HintSubject == "" || u.opts.Subject(ctx, req.ClientID, m.ID) == req.HintSubject
}

var errNotYours = errors.New("auth request bound to another browser")

// bindTo binds a request to the browser session sessID, unless another
// browser has it already.
func bindTo(sessID string) func(storage.AuthRequest) (storage.AuthRequest, error) {
	return func(a storage.AuthRequest) (storage.AuthRequest, error) {
		if a.BrowserSession != "" && a.BrowserSession != sessID {
			return a, errNotYours
		}
		a.BrowserSession = sessID
		return a, nil
	}
}

// bindForStep binds req to the browser session before finish sends the
// browser to a step (or answers prompt=none with the step's error): the
// step's page must find the request this browser's. A request the login
// page loaded is bound already; one answered from the SSO session is not
// (answerFromSession leaves the binding to the write that answers it).
// It reports whether the request is this browser's; if not, it has
// answered.
func (u *UI) bindForStep(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) bool {
	if req.BrowserSession == sess.ID {
		return true
	}
	err := u.store.UpdateAuthRequest(r.Context(), req.ID, bindTo(sess.ID))
	if storage.Unavailable(err) {
		u.serverError(w, r, err)
		return false
	}
	if err != nil {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return false
	}
	return true
}
