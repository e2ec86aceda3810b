package loginui

import (
	"context"
	"net/http"
	"slices"

	"github.com/gorilla/sessions"

	"tsubasa/storage"
)

// Feature is an optional part of the hosted login (one-time passwords,
// passkeys, consent, login risk). cmd enables features through
// Options.Features with this package's constructors; each registers its
// routes, flow steps, login hooks and account sections in New.
type Feature interface {
	register(u *UI) error
}

// flowState is a login in progress: who proved what so far, for which
// request. It lives in the browser session until the login is established.
type flowState struct {
	ReqID    string
	MemberID string
	AMR      []string
	ACR      string
	StepUp   bool // started from an existing SSO session that was not enough
	SetPass  bool // must set a password before continuing (legacy PIN, forced reset)
	// Stamp is the member's security stamp when the login began; the login
	// is void once it changes.
	Stamp string
	// NewHash is the hash of the password the set-password step chose,
	// held until establish stores it.
	NewHash string
	Member  storage.Member
	// sess is the browser's session, for after-steps (finish sets it): a
	// session loaded again from the request would be the one before
	// establish gave it a new id.
	sess *sessions.Session
}

// step is a stage between primary authentication and the established
// login (before: set password, one-time password) or between the
// established login and the answer to the client (after: consent).
type step struct {
	order  int
	name   string
	path   string // GET page of the step; ?authRequestID= is appended
	needed func(ctx context.Context, r *http.Request, st flowState, req storage.AuthRequest) (bool, error)
}

// loginHook runs when a login is established, with the request that asked
// for it (risk assessment, login alerts, metrics).
type loginHook func(w http.ResponseWriter, r *http.Request, sess *sessions.Session, st flowState, req storage.AuthRequest) error

// accountSection is an entry of "Manage your account".
type accountSection struct {
	order    int
	titleKey string
	descKey  string
	path     string
}

// Path, TitleKey and DescKey expose a section to the account template.
func (s accountSection) Path() string     { return s.path }
func (s accountSection) TitleKey() string { return s.titleKey }
func (s accountSection) DescKey() string  { return s.descKey }

func (u *UI) addStep(after bool, s step) {
	list := &u.before
	if after {
		list = &u.after
	}
	*list = append(*list, s)
	slices.SortStableFunc(*list, func(a, b step) int { return a.order - b.order })
}

func (u *UI) addSection(s accountSection) {
	u.sections = append(u.sections, s)
	slices.SortStableFunc(u.sections, func(a, b accountSection) int { return a.order - b.order })
}

// handle registers a route on the UI's mux.
func (u *UI) handle(pattern string, h http.HandlerFunc) { u.mux.HandleFunc(pattern, h) }
