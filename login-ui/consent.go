package loginui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/audit"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Consent for third-party apps, and the member's list of linked apps.
//
//	GET  /login/consent?authRequestID=  the consent page: the app, what it asks for, Approve / Deny
//	POST /login/consent                 action=approve: remember the scopes, finish the request;
//	                                    action=deny: access_denied to the app
//	POST /login/consent/switch          "not you?": end the SSO session, back to the login form
//	GET  /account/apps                  linked apps: what each may see and since when
//	POST /account/apps/unlink           forget the consent, revoke the app's tokens, audit it
//
// The consent step runs after the login is established (flow.go finish):
// first-party clients never see it; a third-party client needs it when the
// member's stored consent does not cover every requested scope (so
// offline_access, never implied for third parties, is always consented
// explicitly), and on prompt=consent until the member approves within that
// request. With prompt=none finish answers consent_required instead.

// ConsentClient is what the consent pages need of a client.
type ConsentClient struct {
	ID         string
	Name       string
	ThirdParty bool
	LogoURI    string
	PolicyURI  string
	Scopes     []string
}

// ConsentStore is the storage the consent feature needs beyond the UI's
// own Store: the consents, and the audit log for unlinking.
type ConsentStore interface {
	storage.Consents
	storage.Events
}

// ConsentOptions configure the consent feature.
type ConsentOptions struct {
	// Client returns a client's details; an unknown client is an error
	// wrapping storage.ErrNotFound. Required.
	Client func(ctx context.Context, clientID string) (ConsentClient, error)
	// Revoke deletes every token the client holds for the member and
	// returns how many. Required.
	Revoke func(ctx context.Context, memberID, clientID string) (int, error)
	Store  ConsentStore // required
	// Audit records app.unlinked [a logger on Store without SIEM output].
	Audit *audit.Logger
	// Location shows dates on the account pages [UTC].
	Location *time.Location
}

type consentFeature struct {
	ConsentOptions
	u *UI
}

// Consent enables the consent page for third-party clients and the
// member's linked-apps page. Without it third-party clients are answered
// like first-party ones, so cmd always enables it.
func Consent(o ConsentOptions) Feature { return &consentFeature{ConsentOptions: o} }

const (
	consentPath = "/login/consent"
	appsPath    = "/account/apps"
	// keyConsentGiven is the request whose consent the member approved in
	// this session: prompt=consent asks once per request, not in a loop.
	keyConsentGiven = "consent_given"
)

func (f *consentFeature) register(u *UI) error {
	if f.Client == nil || f.Revoke == nil || f.Store == nil {
		return errors.New("loginui: the consent feature needs Client, Revoke and Store")
	}
	if f.Audit == nil {
		f.Audit = audit.New(f.Store, nil)
	}
	if f.Location == nil {
		f.Location = time.UTC
	}
	f.u = u
	u.addStep(true, step{order: 50, name: "consent", path: consentPath, needed: f.needed})
	u.pageNames = append(u.pageNames, "consent", "account_apps")
	u.addSection(accountSection{order: 30, titleKey: "account.apps.title", descKey: "account.apps.desc", path: appsPath})
	u.handle("GET "+consentPath, f.show)
	u.handle("POST "+consentPath, f.post)
	u.handle("POST "+consentPath+"/switch", f.switchMember)
	u.handle("GET "+appsPath, f.showApps)
	u.handle("POST "+appsPath+"/unlink", f.unlink)
	return nil
}

// needed is the consent step's test.
func (f *consentFeature) needed(ctx context.Context, r *http.Request, st flowState, req storage.AuthRequest) (bool, error) {
	if req.ClientID == AccountClientID {
		return false, nil
	}
	if req.DeviceGrant != "" {
		// A device is always confirmed, first-party or not: the member
		// must see which app the screen is signing in (device.go).
		return value(f.u.session(r), keyConsentGiven) != req.ID, nil
	}
	c, err := f.Client(ctx, req.ClientID)
	if err != nil {
		return false, err
	}
	if !c.ThirdParty {
		return false, nil
	}
	given := ""
	if slices.Contains(req.Prompt, "consent") {
		given = value(f.u.session(r), keyConsentGiven)
	}
	return f.consentNeeded(ctx, given, st.MemberID, req)
}

// consentNeeded: prompt=consent asks until approved in this request (given
// is the request the session's member last approved); otherwise the stored
// consent must cover every requested scope.
func (f *consentFeature) consentNeeded(ctx context.Context, given, memberID string, req storage.AuthRequest) (bool, error) {
	if slices.Contains(req.Prompt, "consent") {
		return given != req.ID, nil
	}
	c, err := f.Store.ConsentByID(ctx, memberID, req.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !covers(c.Scopes, req.Scopes), nil
}

// loggedInFor returns the session's member when the session's login
// satisfies the request: a login made after the request was created (the
// flow ran, with whatever steps it needed), or an SSO login that showLogin
// would have accepted. The consent page is reachable by URL, so it must
// not let a direct visit skip prompt=login, max_age or acr_values.
func (f *consentFeature) loggedInFor(ctx context.Context, sess *sessions.Session, req storage.AuthRequest) (storage.Member, bool) {
	m, ok := f.u.ssoMember(ctx, sess)
	if !ok {
		return storage.Member{}, false
	}
	at := authTime(sess)
	created := req.CreatedAt.Truncate(time.Second) // auth_time has whole seconds
	if !at.Before(created) {
		return m, true
	}
	sso := !slices.Contains(req.Prompt, "login") && acr.Fresh(at, req.MaxAge, created) && acr.Met(value(sess, keyACR), req.ACRValues)
	return m, sso
}

type consentPage struct {
	page
	AuthRequestID string
	App           ConsentClient
	Scopes        []scopeView
	MaskedNumber  string
	Device        bool // the request signs in a device (device.go)
}

// prepare loads what both consent handlers need, or answers the request.
func (f *consentFeature) prepare(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) (storage.Member, ConsentClient, bool) {
	m, ok := f.loggedInFor(r.Context(), sess, req)
	if !ok {
		// The login page decides what the request still needs.
		http.Redirect(w, r, LoginURL(req.ID), http.StatusSeeOther)
		return storage.Member{}, ConsentClient{}, false
	}
	c, err := f.Client(r.Context(), req.ClientID)
	if err != nil {
		f.u.serverError(w, r, err)
		return storage.Member{}, ConsentClient{}, false
	}
	return m, c, true
}

func (f *consentFeature) show(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	m, c, ok := f.prepare(w, r, sess, req)
	if !ok {
		return
	}
	if !c.ThirdParty && req.DeviceGrant == "" {
		u.finish(w, r, sess, req)
		return
	}
	var granted []string
	if prev, err := f.Store.ConsentByID(r.Context(), m.ID, c.ID); err == nil {
		granted = prev.Scopes
	}
	p := consentPage{
		page:          u.newPage(r, u.consentLang(r, req, m), "consent.title"),
		AuthRequestID: req.ID,
		App:           safeClient(c),
		MaskedNumber:  notify.MaskMemberNumber(m.Number),
		Device:        req.DeviceGrant != "",
	}
	p.Scopes = scopeViews(p.page, req.Scopes, granted)
	u.render(w, r, http.StatusOK, "consent", p)
}

func (f *consentFeature) post(w http.ResponseWriter, r *http.Request) {
	u := f.u
	ctx := r.Context()
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	switch r.PostFormValue("action") {
	case "deny":
		u.opts.Fail(w, r, req.ID, "access_denied", "the member did not allow the app access")
		return
	case "approve":
	default:
		u.renderError(w, r, http.StatusBadRequest, "error.request_missing")
		return
	}
	m, c, ok := f.prepare(w, r, sess, req)
	if !ok {
		return
	}
	if c.ThirdParty || req.DeviceGrant != "" {
		// A device is remembered as a linked app even for a first-party
		// client: the member sees it, and can unlink it, under linked apps.
		if err := f.remember(ctx, r, m, c, req.Scopes); err != nil {
			u.serverError(w, r, err)
			return
		}
		sess.Values[keyConsentGiven] = req.ID
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.serverError(w, r, err)
			return
		}
	}
	u.finish(w, r, sess, req)
}

// remember stores the approved scopes (added to any earlier consent). A
// first consent links the app: the app.linked event and alert mail, through
// the risk feature, before the consent is stored, so a failure leaves
// nothing linked unannounced.
func (f *consentFeature) remember(ctx context.Context, r *http.Request, m storage.Member, c ConsentClient, scopes []string) error {
	now := f.u.now().UTC()
	prev, err := f.Store.ConsentByID(ctx, m.ID, c.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if err := f.u.appLinked(ctx, r, m, c.ID, c.Name); err != nil {
			return err
		}
		prev = storage.Consent{MemberID: m.ID, ClientID: c.ID, CreatedAt: now}
	case err != nil:
		return err
	}
	prev.Scopes = union(prev.Scopes, scopes)
	prev.UpdatedAt = now
	return f.Store.PutConsent(ctx, prev)
}

// switchMember is "not you?": the SSO session ends (a new, empty session
// takes its place and keeps the request) and the login form comes back.
func (f *consentFeature) switchMember(w http.ResponseWriter, r *http.Request) {
	u := f.u
	ctx := r.Context()
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	old := sess.ID
	if err := u.sessions.regenerate(ctx, sess, ""); err != nil {
		u.serverError(w, r, err)
		return
	}
	for _, k := range []string{keyMember, keyAuthTime, keyACR, keyAMR, keyDevice, keyConsentGiven} {
		delete(sess.Values, k)
	}
	clearFlow(sess)
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	err := u.store.UpdateAuthRequest(ctx, req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		if a.BrowserSession != old {
			return a, errNotYours
		}
		a.BrowserSession = sess.ID
		return a, nil
	})
	if err != nil {
		u.renderError(w, r, http.StatusForbidden, "error.request_foreign")
		return
	}
	http.Redirect(w, r, LoginURL(req.ID), http.StatusSeeOther)
}

// rebind moves a request to the browser session's current id. establish
// calls it right after regenerating the session id at login, so every step
// after it, and op's callback, find the request bound to this browser.
func (u *UI) rebind(ctx context.Context, req storage.AuthRequest, sessID string) error {
	if req.BrowserSession == sessID {
		return nil
	}
	return u.store.UpdateAuthRequest(ctx, req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		a.BrowserSession = sessID
		return a, nil
	})
}

// consentLang: the app's ui_locales, then the member's explicit choice
// (cookie), then the member's profile, then the browser.
func (u *UI) consentLang(r *http.Request, req storage.AuthRequest, m storage.Member) string {
	prefs := slices.Clone(req.UILocales)
	if c, err := r.Cookie(langCookie); (err != nil || !u.langs.has(c.Value)) && u.langs.has(m.Locale) {
		prefs = append(prefs, m.Locale)
	}
	return u.langs.negotiate(r, prefs)
}

// safeClient keeps only links a page may show: the logo over https (the
// CSP allows img-src https: and 'self'; a local path counts as 'self') and
// an http(s) policy link.
func safeClient(c ConsentClient) ConsentClient {
	if !strings.HasPrefix(c.LogoURI, "https://") && !(strings.HasPrefix(c.LogoURI, "/") && !strings.HasPrefix(c.LogoURI, "//")) {
		c.LogoURI = ""
	}
	if !strings.HasPrefix(c.PolicyURI, "https://") && !strings.HasPrefix(c.PolicyURI, "http://") {
		c.PolicyURI = ""
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	return c
}
