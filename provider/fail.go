package provider

import (
	"context"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// FailAuthRequest answers an authorization request with an OAuth error
// (login_required, consent_required, access_denied …) at the client's
// registered redirect URI, in the request's response mode, and forgets the
// request. An unknown request gets a plain 400 (op never redirects without
// a validated redirect URI).
func (p *Provider) FailAuthRequest(w http.ResponseWriter, r *http.Request, id, code, description string) {
	ctx := r.Context()
	rec, err := p.store.AuthRequestByID(ctx, id)
	if p.requestUnread(w, r, err) {
		return
	}
	_ = p.store.DeleteAuthRequest(ctx, id)
	e := authError(code).WithDescription("%s", description)
	op.AuthRequestError(w, r, &authRequest{r: rec}, e, p.responder)
}

// ClientName is a client's display name for the login pages.
func (p *Provider) ClientName(ctx context.Context, id string) string {
	c, err := p.clients.get(ctx, id)
	if err != nil || c.Name == "" {
		return id
	}
	return c.Name
}

// Subject is the sub client clientID sees for memberID (pairwise for a
// third party), as an id_token_hint for that client carries it; "" for an
// unknown client.
func (p *Provider) Subject(ctx context.Context, clientID, memberID string) string {
	c, err := p.clients.get(ctx, clientID)
	if err != nil {
		return ""
	}
	return p.subjectFor(c, memberID)
}

// authError maps the codes the login UI may send to op's typed errors
// (OpenID Connect Core 1.0 §3.1.2.6, RFC 6749 §4.1.2.1).
func authError(code string) *oidc.Error {
	switch code {
	case "login_required":
		return oidc.ErrLoginRequired()
	case "interaction_required":
		return oidc.ErrInteractionRequired()
	case "consent_required":
		return &oidc.Error{ErrorType: "consent_required"}
	case "account_selection_required":
		return &oidc.Error{ErrorType: "account_selection_required"}
	case "access_denied":
		return oidc.ErrAccessDenied()
	default:
		return oidc.ErrServerError()
	}
}

// AnswerAuthRequest sends a finished request's answer, the code in the
// request's response mode, to the client's redirect URI. It is what op's
// callback endpoint does, called by the login UI the moment the request is
// done, which spares the browser a round trip through the callback.
func (p *Provider) AnswerAuthRequest(w http.ResponseWriter, r *http.Request, id string) {
	a, err := (&opStorage{p}).AuthRequestByID(r.Context(), id)
	if p.requestUnread(w, r, err) {
		return
	}
	if !a.Done() {
		op.AuthRequestError(w, r, a, oidc.ErrInteractionRequired().WithDescription("the member has not finished logging in"), p.responder)
		return
	}
	resp := p.responder
	if ar, ok := a.(*authRequest); ok {
		// The code carries the request (codeseal.go).
		s := p.newCodeSealer(r.Context(), ar.r)
		resp.crypto = s
		r = r.WithContext(withCodeSealer(r.Context(), s))
	}
	op.AuthResponse(a, resp, w, r)
}

// requestUnread answers a browser whose authorization request could not
// be read (err), and reports whether it did: 503 when storage did not
// answer (tryAgainLater), else a plain 400 for an unknown request (op
// never redirects without a validated redirect URI).
func (p *Provider) requestUnread(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case storage.Unavailable(err):
		p.tryAgainLater(w, r, err)
	default:
		op.AuthRequestError(w, r, nil, oidc.ErrInvalidRequest().WithDescription("unknown authorization request"), p.responder)
	}
	return true
}

// tryAgainLater answers a browser whose authorization request, or its
// client, storage could not read, so that there is no relying party to
// send it back to: 503 with Retry-After, and nothing of the cause (op's
// own answer for a request it cannot find is a 400 that prints the
// error's chain).
func (p *Provider) tryAgainLater(w http.ResponseWriter, r *http.Request, err error) {
	p.log.WarnContext(r.Context(), "authorization request or client unreadable: storage does not answer", "err", err)
	w.Header().Set("Retry-After", retryAfter)
	http.Error(w, temporarilyUnavailable().Description, http.StatusServiceUnavailable)
}
