package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// Pushed authorization requests (RFC 9126). A client posts its
// authorization request to parPath, authenticated as at the token endpoint
// (clientauth.go), and gets a request_uri that stands for it; the browser
// then brings only client_id and request_uri to /authorize. The request
// travels between the client and the provider only, where nobody can read
// or change it, and it is checked before the member ever sees a page.
//
//   - The pushed request is validated as /authorize validates one (the
//     same checks: pushedRequestProblem), and refused with the JSON errors
//     of RFC 9126 §2.3; a signed request object in it (request) is
//     verified and replaces the form (requestobject.go); a request_uri in
//     it is refused (§2.1).
//   - The request_uri is urn:ietf:params:oauth:request_uri: followed by 32
//     random bytes; storage keeps its HMAC only (storage.PushedRequests),
//     with the client it was pushed by, for Options.PARTTL (60 s by
//     default: expires_in).
//   - At /authorize it is claimed in one atomic step, by its own client
//     only (client_id must name the client that pushed it) and once:
//     another client's request_uri, a used one and an expired one are all
//     unknown, and the browser gets the "start again" page, never a
//     redirect (nothing vouches for one). Then its parameters are the
//     request, and the query's are ignored.
//   - A client with require_pushed_authorization_requests, or every
//     client when Options.RequirePAR is set, must come this way: a request
//     at /authorize that was not pushed is refused at its redirect URI.

const (
	parPath          = "/oauth/par"
	requestURIPrefix = "urn:ietf:params:oauth:request_uri:"
)

// parResponse is RFC 9126 §2.2's answer.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// servePAR answers the pushed authorization request endpoint. postBody
// has made sure of a POST with a parsed form whose parameters appear once.
func (p *Provider) servePAR(w http.ResponseWriter, r *http.Request) {
	c, oerr := p.authenticateClient(r, parAuthMethods)
	if oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	ctx := r.Context()
	if r.PostForm.Has("request_uri") {
		writeOAuthError(w, oidc.ErrInvalidRequest().WithDescription("request_uri must not be pushed (RFC 9126 section 2.1)"))
		return
	}
	params, oerr := p.pushedParams(ctx, c, r.PostForm)
	if oerr == nil {
		oerr = p.pushedProof(w, r, c, params)
	}
	if oerr == nil {
		oerr = p.pushedRequestProblem(ctx, c, params)
	}
	if oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	value := requestURIPrefix + newID(32)
	now := p.now().UTC()
	err := p.store.CreatePushedRequest(ctx, storage.PushedRequest{
		ID: p.tokenHash("request_uri", value), ClientID: c.ID, Params: params,
		CreatedAt: now, ExpiresAt: now.Add(p.opts.PARTTL),
	})
	if err != nil {
		p.writeTokenError(w, r, oidc.ErrServerError().WithParent(err))
		return
	}
	writeJSON(w, http.StatusCreated, parResponse{RequestURI: value, ExpiresIn: int(p.opts.PARTTL.Seconds())})
}

// pushedParams are the authorization parameters of a pushed request: a
// request object's (verified), or else the form's, without the client's
// credentials and with client_id set to the authenticated client.
func (p *Provider) pushedParams(ctx context.Context, c storage.Client, form url.Values) (url.Values, *oidc.Error) {
	if raw := form.Get("request"); raw != "" {
		if !hasKeys(c) {
			return nil, oidc.ErrRequestNotSupported().WithDescription("this client registered no keys (jwks or jwks_uri) to sign request objects with")
		}
		return p.requestObjectParams(ctx, c, raw)
	}
	params := url.Values{}
	for _, k := range objectParams {
		if v, ok := form[k]; ok {
			params[k] = v
		}
	}
	params.Set("client_id", c.ID)
	return params, nil
}

// pushedRequestProblem checks a pushed request as /authorize checks one
// (authorizer.ValidateAuthRequest and CreateAuthRequest): the redirect URI
// registered exactly, the response type and mode, prompt, scopes,
// id_token_hint, PKCE.
func (p *Provider) pushedRequestProblem(ctx context.Context, c storage.Client, params url.Values) *oidc.Error {
	if problem := formProblem(params); problem != "" {
		return oidc.ErrInvalidRequest().WithDescription("%s", problem)
	}
	req := new(oidc.AuthRequest)
	if err := p.op.Decoder().Decode(req, params); err != nil {
		return oidc.ErrInvalidRequest().WithDescription("the authorization request's parameters do not parse")
	}
	if req.RedirectURI == "" {
		return oidc.ErrInvalidRequest().WithDescription("redirect_uri is required")
	}
	a := authorizer{Provider: p.op, p: p, form: params, pushed: true}
	if _, err := a.ValidateAuthRequest(ctx, req, p.op.Storage(), p.op.IDTokenHintVerifier(ctx)); err != nil {
		return asOAuthError(err)
	}
	if oerr := p.requestRules(c, req); oerr != nil {
		return oerr
	}
	if _, oerr := parseExtras(params); oerr != nil {
		return oerr
	}
	return nil
}

// claimPushed claims the pushed request a /authorize request names, and
// returns its parameters; false when there is none to claim.
func (p *Provider) claimPushed(ctx context.Context, form url.Values) (url.Values, bool) {
	clientID := form.Get("client_id")
	rec, err := p.store.ClaimPushedRequest(ctx, p.tokenHash("request_uri", form.Get("request_uri")), clientID, p.now())
	switch {
	case errors.Is(err, storage.ErrConsumed):
		p.log.WarnContext(ctx, "pushed request_uri used again", "client_id", clientID)
		return nil, false
	case err != nil:
		p.log.InfoContext(ctx, "pushed request_uri refused: unknown, expired or another client's", "client_id", clientID,
			"not_found", errors.Is(err, storage.ErrNotFound))
		return nil, false
	}
	return url.Values(rec.Params), true
}

// isPushedURI reports whether a request_uri is one the PAR endpoint hands out.
func isPushedURI(uri string) bool { return strings.HasPrefix(uri, requestURIPrefix) }

// requestURIRefused answers a /authorize request whose request_uri cannot
// be claimed: the member starts again from the app.
func (p *Provider) requestURIRefused(w http.ResponseWriter, r *http.Request) {
	if p.opts.RequestURIRefused != nil {
		p.opts.RequestURIRefused(w, r)
		return
	}
	http.Error(w, "the request_uri is unknown, expired or already used", http.StatusBadRequest)
}

// requirePARError refuses a request that a client must have pushed.
func requirePARError() *oidc.Error {
	return oidc.ErrInvalidRequest().WithDescription("this client must push its authorization requests to the pushed authorization request endpoint (RFC 9126) and send only client_id and request_uri here")
}
