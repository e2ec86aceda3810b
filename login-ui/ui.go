package loginui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the login UI needs from storage.
type Store interface {
	storage.AuthRequests
	storage.Sessions
	storage.Members
	storage.Units
	// DeleteTokens (storage.Tokens) revokes the tokens of a session that
	// a logout ends.
	DeleteTokens(ctx context.Context, f storage.TokenFilter) (int, error)
}

// Members is the member domain as the login UI uses it. Every credential
// change goes through it (CredentialChanged and the password setters built
// on it), which ends the member's sessions and revokes their tokens.
type Members interface {
	Authenticate(ctx context.Context, in member.LoginInput) (member.LoginResult, error)
	HashNewPassword(ctx context.Context, memberID, password string) (string, error)
	SetPasswordHash(ctx context.Context, memberID, hash string, c member.Change) (member.Ended, error)
	SetPassword(ctx context.Context, memberID, password string, c member.Change) (member.Ended, error)
	ChangePassword(ctx context.Context, memberID, current, password string, c member.Change) (member.Ended, error)
	CredentialChanged(ctx context.Context, memberID string, c member.Change) (member.Ended, error)
	ReportNotMe(ctx context.Context, memberID string, c member.Change) (member.Ended, error)
	Policy() member.Policy
}

// Brand is what the pages show of the programme.
type Brand struct {
	Name         string
	LogoURL      string
	PrimaryColor string
	SupportURL   string
	// PrivacyURL and TermsURL are the programme's privacy notice and terms
	// of use, linked with SupportURL in every page's footer.
	PrivacyURL string
	TermsURL   string
}

// Options configure the UI. cmd builds them.
type Options struct {
	Store   Store
	Members Members
	// Callback is op.AuthCallbackURL: where a finished request goes when
	// Answer is nil.
	Callback func(ctx context.Context, authRequestID string) string
	// Answer, when set, answers a finished request to its relying party in
	// the same response (the provider's AnswerAuthRequest) instead of
	// sending the browser through Callback first.
	Answer func(w http.ResponseWriter, r *http.Request, authRequestID string)
	// Fail sends an OAuth error to the relying party of a request
	// (login_required, access_denied …) by its registered redirect URI.
	Fail func(w http.ResponseWriter, r *http.Request, authRequestID, code, description string)
	// ClientName returns a client's display name (for the page header).
	ClientName func(ctx context.Context, clientID string) string
	// Subject returns the sub a client sees for a member (the provider's
	// pairwise rule), which an id_token_hint names; nil means the member
	// id (first-party clients).
	Subject func(ctx context.Context, clientID, memberID string) string

	CookieKey  []byte // ≥32 bytes
	Secure     bool   // the issuer is https: __Host- cookies, HSTS
	SessionTTL time.Duration
	IdleTTL    time.Duration
	Brand      Brand
	// Languages are the languages the pages speak (ui.languages), each a
	// folder of catalogs under locales/ (Shipped), the fallback first;
	// empty means every shipped language.
	Languages []string
	ThemeDir  string // optional directory overriding templates/ and static/
	// StepUpMaxAge is how old a one-time password may be for the account
	// pages that show or change member information.
	StepUpMaxAge time.Duration
	// KeepSessionOnCredentialChange keeps the browser a member changes a
	// credential in (password, passkey, contact) logged in, under a new
	// session id; every other session ends either way.
	KeepSessionOnCredentialChange bool
	// Logouts queues the back-channel logouts of the sessions the pages
	// end (a logout, signing out a device or everywhere), before they
	// end; nil queues none.
	Logouts *notify.Logouts
	// Metrics counts logins by method and the passkey offer (nudge.go);
	// nil counts nothing.
	Metrics Metrics

	// Features are the optional parts enabled for this deployment.
	Features []Feature
	Now      func() time.Time
	Logger   *slog.Logger
}

// UI is the hosted login: pages, sessions and the login state machine.
type UI struct {
	opts     Options
	store    Store
	sessions *sessionStore
	cat      catalog
	langs    langSet
	pages    map[string]*template.Template
	static   fs.FS
	now      func() time.Time
	log      *slog.Logger
	cookie   string
	mux      *http.ServeMux

	pageNames   []string            // pages to parse: the core ones and each feature's
	partials    map[string][]string // extra template files per page (feature blocks)
	before      []step              // steps before the login is established
	after       []step              // steps after it (consent)
	onLogin     []loginHook         // run when a login is established
	onForm      []formHook          // run when the password form's login succeeded (nudge.go)
	sections    []accountSection    // "Manage your account" entries
	loginExtras []string            // feature blocks on the login page
	stepUp      bool                // a one-time-password step-up exists
	risk        *riskFeature        // login risk and device recognition (risk.go); nil when off
	otp         *otpFeature         // one-time passwords (otp.go); nil when off
	// contactCheck is the contacts' test message and reminder (contact_check.go); nil when off.
	contactCheck *contactCheckFeature
	device       *deviceFeature // the device grant's pages (device.go); nil when off
}

// corePages are the pages every deployment has; a missing one fails start-up.
var corePages = []string{"login", "set_password", "error", "logged_out", "account", "account_password", "logout"}

// New parses every template and catalog once; a missing page or key is a
// start-up error, not a runtime surprise.
func New(o Options) (*UI, error) {
	if len(o.CookieKey) < 32 {
		return nil, fmt.Errorf("loginui: cookie key must be at least 32 bytes")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ClientName == nil {
		o.ClientName = func(_ context.Context, id string) string { return id }
	}
	if o.Subject == nil {
		o.Subject = func(_ context.Context, _, memberID string) string { return memberID }
	}
	tfs, sfs := fs.FS(templateFS), fs.FS(staticFS)
	if o.ThemeDir != "" {
		tfs = overlay{os.DirFS(o.ThemeDir), tfs}
		sfs = overlay{os.DirFS(o.ThemeDir), sfs}
	}
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		return nil, err
	}
	if miss := cat.missing(); len(miss) > 0 {
		return nil, fmt.Errorf("loginui: catalog keys missing: %s", strings.Join(miss, ", "))
	}
	langs, err := newLangSet(o.Languages, cat)
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(sfs, "static")
	if err != nil {
		return nil, err
	}
	cookie := "tsubasa_session"
	if o.Secure {
		cookie = "__Host-tsubasa_session"
	}
	u := &UI{
		opts:      o,
		store:     o.Store,
		cat:       cat,
		langs:     langs,
		pages:     map[string]*template.Template{},
		static:    static,
		now:       o.Now,
		log:       o.Logger,
		cookie:    cookie,
		mux:       http.NewServeMux(),
		pageNames: slices.Clone(corePages),
		partials:  map[string][]string{},
	}
	u.sessions = newSessionStore(o.Store, o.CookieKey, o.Secure, o.SessionTTL, o.IdleTTL, o.Now)
	u.sessions.logouts = o.Logouts
	u.routes()
	u.addStep(false, u.setPasswordStep())
	for _, f := range o.Features {
		if err := f.register(u); err != nil {
			return nil, err
		}
	}
	// Every page is the layout, the shared blocks (partials.html), the page
	// itself and the feature blocks it shows.
	for _, name := range u.pageNames {
		files := append([]string{"templates/layout.html", "templates/partials.html", "templates/" + name + ".html"}, u.partials[name]...)
		t, err := template.New("layout.html").Funcs(pageFuncs).ParseFS(tfs, files...)
		if err != nil {
			return nil, fmt.Errorf("loginui: page %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

func (u *UI) routes() {
	u.handle("GET /login", u.showLogin)
	u.handle("POST /login", u.postLogin)
	u.handle("GET /login/password", u.showSetPassword)
	u.handle("POST /login/password", u.postSetPassword)
	u.handle("GET "+LogoutURL, u.loggedOut)
	u.handle("GET "+LogoutPath, u.showLogout)
	u.handle("POST "+LogoutPath, u.postLogout)
	u.handle("GET /account", u.accountHome)
	u.handle("GET /account/password", u.showChangePassword)
	u.handle("POST /account/password", u.postChangePassword)
	u.handle("POST /account/logout", u.accountLogout)
	u.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(u.static)))
	u.handle("GET /theme.css", u.themeCSS)
}

// LoginURL is the login page of an authorization request (op's Client.LoginURL).
func LoginURL(authRequestID string) string {
	return loginURLPrefix + url.QueryEscape(authRequestID)
}

const loginURLPrefix = "/login?authRequestID="

// LogoutURL is the logged-out page, where a logout without a
// post_logout_redirect_uri ends (logout.go).
const LogoutURL = "/logged-out"

// Handler serves the login UI's routes.
func (u *UI) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, http.StatusForbidden, "error.cross_site")
	}))
	return u.securityHeaders(u.LangSwitch(cop.Handler(u.holdWrites(u.mux))))
}

func staticHandler(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}

// securityHeaders sets CSP and friends on every page: scripts and styles
// only from our origin, never inline; no framing.
func (u *UI) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.setSecurityHeaders(w, r)
		next.ServeHTTP(w, r)
	})
}

func (u *UI) setSecurityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if u.opts.Secure {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
}

// LangSwitch handles ?lang= on any GET: remember the choice in a cookie and
// come back to the same page without the parameter, keeping the place in
// the flow. cmd also puts it in front of /authorize, whose error page has
// the switcher too. A tag of another region or spelling of a configured
// language (zh-TW for zh-Hant) is remembered as the configured one; any
// other value is ignored.
func (u *UI) LangSwitch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := r.URL.Query().Get("lang")
		if r.Method != http.MethodGet || lang == "" {
			next.ServeHTTP(w, r)
			return
		}
		if lang = u.langs.match(lang); lang != "" {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: u.opts.Secure, SameSite: http.SameSiteLaxMode})
		}
		q := r.URL.Query()
		q.Del("lang")
		back := r.URL.Path
		if len(q) > 0 {
			back += "?" + q.Encode()
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	})
}

// render executes a page into a buffer first, so a template error never
// sends half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := u.pages[name].Execute(&buf, data); err != nil {
		u.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// overlay reads from the theme directory first, then the embedded files.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(name); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}
