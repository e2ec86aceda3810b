package provider

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// RP-Initiated Logout 1.0, the provider's half. /end_session (GET or POST,
// §2) is validated here and never ends anything itself: the browser
// session, the question to the member and the redirect belong to the
// login UI, which gets the validated request through Options.EndSession
// (or the reason it was refused through Options.LogoutRefused). op's
// own EndSession is never reached: it would end the session named by any
// valid hint, in any browser, without asking, and it redirects to a
// post_logout_redirect_uri given with a client_id alone as if the member
// had logged out.

// LogoutRequest is an end-session request that passed validation.
type LogoutRequest struct {
	// ClientID is the relying party asking: the client of the
	// id_token_hint, or client_id; empty when neither was given.
	ClientID string
	// RedirectURI is the post_logout_redirect_uri, registered exactly for
	// ClientID, with state appended (§3); empty when none was asked for.
	RedirectURI string
	// SessionID is the sid of a valid id_token_hint whose subject is the
	// member of that SSO session: the session the relying party proves it
	// is part of. Empty otherwise.
	SessionID string
	// UILocales is ui_locales, as given (§2: an unsupported one is no error).
	UILocales []string
}

// LogoutReason says why an end-session request was refused. Nothing is
// ended and nothing redirected after a refusal (§4).
type LogoutReason int

// Reasons for refusing an end-session request.
const (
	// LogoutMalformed: the query or form does not parse, or a parameter
	// is repeated.
	LogoutMalformed LogoutReason = iota + 1
	// LogoutUnknownClient: client_id, or the client of the hint, is not registered.
	LogoutUnknownClient
	// LogoutBadHint: id_token_hint is not an ID token this provider signed.
	LogoutBadHint
	// LogoutClientMismatch: client_id is not the client the hint was issued to.
	LogoutClientMismatch
	// LogoutBadRedirect: post_logout_redirect_uri is not registered,
	// exactly, for the client.
	LogoutBadRedirect
	// LogoutRedirectWithoutClient: post_logout_redirect_uri came with
	// neither id_token_hint nor client_id, so no registration can vouch for it.
	LogoutRedirectWithoutClient
	// LogoutUnavailable: storage failed; try again later.
	LogoutUnavailable
)

// LogoutRefusal is a refused end-session request, for the page that says so.
type LogoutRefusal struct {
	Reason    LogoutReason
	Status    int // HTTP status of the answer
	UILocales []string
}

// endSessionParams are the parameters of §2, each given at most once.
type endSessionParams struct {
	hint, logoutHint, clientID, redirectURI, state string
	uiLocales                                      []string
}

var endSessionNames = []string{"id_token_hint", "logout_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"}

// serveEndSession answers /end_session (routes.go mounts it in front of
// op, whose own handler is never reached).
func (p *Provider) serveEndSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	ps, status := parseEndSession(r)
	if status != 0 {
		p.refuseLogout(w, r, LogoutRefusal{Reason: LogoutMalformed, Status: status}, "")
		return
	}
	req, reason := p.validateEndSession(r.Context(), ps)
	if reason != 0 {
		status := http.StatusBadRequest
		if reason == LogoutUnavailable {
			status = http.StatusServiceUnavailable
		}
		p.refuseLogout(w, r, LogoutRefusal{Reason: reason, Status: status, UILocales: ps.uiLocales}, ps.clientID)
		return
	}
	p.opts.EndSession(w, r, req)
}

func (p *Provider) refuseLogout(w http.ResponseWriter, r *http.Request, ref LogoutRefusal, clientID string) {
	// The hint is a token and stays out of the log; the client is the
	// one named, not necessarily the one asking.
	p.log.InfoContext(r.Context(), "end_session refused", "reason", ref.Reason.String(), "client_id", clientID)
	p.opts.LogoutRefused(w, r, ref)
}

// parseEndSession reads §2's parameters from the query (GET) or the form
// (POST). It returns a status other than 0 for a request that does not
// parse (413 for a body over the server's limit) or repeats a parameter:
// two values of one parameter leave it unclear which the relying party meant.
func parseEndSession(r *http.Request) (endSessionParams, int) {
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return endSessionParams{}, http.StatusRequestEntityTooLarge
		}
		return endSessionParams{}, http.StatusBadRequest
	}
	for _, name := range endSessionNames {
		if len(r.Form[name]) > 1 {
			return endSessionParams{}, http.StatusBadRequest
		}
	}
	f := r.Form
	return endSessionParams{
		hint: f.Get("id_token_hint"), logoutHint: f.Get("logout_hint"), clientID: f.Get("client_id"),
		redirectURI: f.Get("post_logout_redirect_uri"), state: f.Get("state"),
		uiLocales: strings.Fields(f.Get("ui_locales")),
	}, 0
}

// validateEndSession applies §2–§4: a hint must be an ID token this
// provider signed (expired ones included, as §2 asks) for a registered
// client that client_id, when given, names too; a post_logout_redirect_uri
// must be registered exactly for that client, and state is appended to it.
// logout_hint is left unused: the hint and the browser's own session say
// whom to log out.
func (p *Provider) validateEndSession(ctx context.Context, ps endSessionParams) (LogoutRequest, LogoutReason) {
	req := LogoutRequest{UILocales: ps.uiLocales}
	clientID := ps.clientID
	var hint *oidc.IDTokenClaims
	if ps.hint != "" {
		claims, ok := p.verifyHint(ctx, ps.hint)
		if !ok {
			return LogoutRequest{}, LogoutBadHint
		}
		if clientID != "" && clientID != claims.AuthorizedParty {
			return LogoutRequest{}, LogoutClientMismatch
		}
		hint, clientID = claims, claims.AuthorizedParty
	}
	var c storage.Client
	if clientID != "" {
		var err error
		if c, err = p.clients.get(ctx, clientID); errors.Is(err, storage.ErrNotFound) {
			return LogoutRequest{}, LogoutUnknownClient
		} else if err != nil {
			return LogoutRequest{}, LogoutUnavailable
		}
		req.ClientID = c.ID
		if hint != nil {
			req.SessionID = p.hintSession(ctx, c, hint)
		}
	}
	if ps.redirectURI != "" {
		if req.ClientID == "" {
			return LogoutRequest{}, LogoutRedirectWithoutClient
		}
		// §3: exactly as registered; no loopback port or other leeway.
		if !slices.Contains(c.PostLogoutRedirectURIs, ps.redirectURI) {
			return LogoutRequest{}, LogoutBadRedirect
		}
		req.RedirectURI = withState(ps.redirectURI, ps.state)
	}
	return req, 0
}

// verifyHint checks that hint is an ID token signed by one of this
// provider's published keys, for this issuer, issued to one client (azp,
// among its audience). Expiry does not matter (§2: a relying party may log
// out with an ID token past its exp). It returns the claims with azp set
// to the hint's client.
func (p *Provider) verifyHint(ctx context.Context, hint string) (*oidc.IDTokenClaims, bool) {
	v := op.NewIDTokenHintVerifier(p.opts.Issuer, &op.OpenIDKeySet{Storage: &opStorage{p}},
		op.WithSupportedIDTokenHintSigningAlgorithms(AlgRS256, AlgES256))
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, v)
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		return nil, false
	}
	if claims == nil || claims.Subject == "" {
		return nil, false
	}
	client := claims.AuthorizedParty
	if client == "" && len(claims.Audience) == 1 {
		client = claims.Audience[0]
	}
	if client == "" || !slices.Contains(claims.Audience, client) {
		return nil, false
	}
	claims.AuthorizedParty = client
	return claims, true
}

// hintSession returns the hint's sid when that SSO session's record still
// exists (live or lapsed: its tokens may outlive it) and belongs to the
// member the hint's subject names (pairwise for third parties), so the
// hint is proof of this very session; otherwise "".
func (p *Provider) hintSession(ctx context.Context, c storage.Client, hint *oidc.IDTokenClaims) string {
	if hint.SessionID == "" {
		return ""
	}
	s, err := p.store.SessionByID(ctx, hint.SessionID)
	if err != nil || s.MemberID == "" {
		return ""
	}
	if subtle.ConstantTimeCompare([]byte(p.subjectFor(c, s.MemberID)), []byte(hint.Subject)) != 1 {
		return ""
	}
	return s.ID
}

// withState appends state to a registered URI, keeping the URI's own query
// byte for byte (§3: the query of a registered URI is preserved).
func withState(uri, state string) string {
	if state == "" {
		return uri
	}
	base, frag, hasFrag := strings.Cut(uri, "#")
	switch {
	case !strings.Contains(base, "?"):
		base += "?"
	case !strings.HasSuffix(base, "?") && !strings.HasSuffix(base, "&"):
		base += "&"
	}
	base += "state=" + url.QueryEscape(state)
	if hasFrag {
		base += "#" + frag
	}
	return base
}

// String names the reason for logs.
func (r LogoutReason) String() string {
	switch r {
	case LogoutMalformed:
		return "malformed"
	case LogoutUnknownClient:
		return "unknown_client"
	case LogoutBadHint:
		return "bad_id_token_hint"
	case LogoutClientMismatch:
		return "client_mismatch"
	case LogoutBadRedirect:
		return "unregistered_post_logout_redirect_uri"
	case LogoutRedirectWithoutClient:
		return "post_logout_redirect_uri_without_client"
	case LogoutUnavailable:
		return "unavailable"
	default:
		return "unknown"
	}
}
