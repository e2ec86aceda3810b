package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// The token endpoint (RFC 6749 §3.2) is Tsubasa's: it authenticates the
// client once, by every method and with the checks of clientauth.go, and
// hands the grant to its handler in the grants table. A handler finds the
// grant's request (a code's authorization request, a refresh token's
// family, a client's own request) and has op mint and sign from it, with
// op's exported building blocks (op.CreateTokenResponse,
// op.CreateClientCredentialsTokenResponse), which call back into
// opStorage. A new grant is a new entry here and in grantTypes
// (metadata.go); its request type implements grant (tokens.go).
//
// The order of the checks: a grant type that is missing or not offered is
// answered before the client is authenticated (it does not depend on who
// asks), then the client, then whether the client holds the grant
// (unauthorized_client, RFC 6749 §5.2), then the grant's own parameters.

// tokenCall is one authenticated token request; jkt is the thumbprint of
// its DPoP proof's key ("" without one: dpoptoken.go).
type tokenCall struct {
	client storage.Client
	form   url.Values
	jkt    string
}

type grantHandler func(p *Provider, ctx context.Context, call tokenCall) (any, *oidc.Error)

// grants are the handlers of the grant types in grantTypes.
var grants = map[string]grantHandler{
	GrantAuthorizationCode: (*Provider).codeGrant,
	GrantRefreshToken:      (*Provider).refreshGrant,
	GrantClientCredentials: (*Provider).clientCredentialsGrant,
	GrantDeviceCode:        (*Provider).deviceCodeGrant, // devicegrant.go
}

// serveToken answers the token endpoint. postBody has made sure it is a
// POST with a parsed form whose parameters appear once.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	gt := r.PostForm.Get("grant_type")
	handle, ok := grants[gt]
	switch {
	case gt == "":
		writeOAuthError(w, oidc.ErrInvalidRequest().WithDescription("grant_type is required"))
		return
	case !ok || !slices.Contains(grantTypes, gt):
		writeOAuthError(w, oidc.ErrUnsupportedGrantType().WithDescription("supported grant types: %s", strings.Join(grantTypes, ", ")))
		return
	}
	c, oerr := p.authenticateClient(r, tokenAuthMethods)
	if oerr == nil && !slices.Contains(c.GrantTypes, gt) {
		oerr = oidc.ErrUnauthorizedClient().WithDescription("this client may not use the %s grant", gt)
	}
	var jkt string
	if oerr == nil {
		jkt, oerr = p.requestProof(w, r, c, p.op.TokenEndpoint().Absolute(p.opts.Issuer))
	}
	if oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	// SigningKey reads the client from the context: op does not pass it;
	// the minting code reads the DPoP binding there too.
	ctx := context.WithValue(r.Context(), clientKey{}, c.ID)
	ctx = context.WithValue(ctx, bindingKey{}, tokenBinding(c, jkt))
	resp, oerr := handle(p, ctx, tokenCall{client: c, form: r.PostForm, jkt: jkt})
	if oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	writeTokenResponse(w, resp, jkt)
}

// writeTokenError logs a server error's cause, which the answer leaves out.
func (p *Provider) writeTokenError(w http.ResponseWriter, r *http.Request, e *oidc.Error) {
	if e.ErrorType == oidc.ServerError {
		p.log.ErrorContext(r.Context(), "token endpoint failed", "err", e.Parent)
	}
	writeOAuthError(w, e)
}

// asOAuthError turns what op's building blocks and opStorage return into
// an OAuth error: theirs as they are, anything else a server error.
func asOAuthError(err error) *oidc.Error {
	var e *oidc.Error
	if errors.As(err, &e) {
		return e
	}
	return oidc.ErrServerError().WithParent(err)
}

// codeGrant is the authorization code grant (RFC 6749 §4.1.3, RFC 7636
// §4.5): the code's request must be this client's, for this redirect URI,
// with the PKCE verifier of its challenge. A code presented with anything
// else is used up all the same (codeRequest).
func (p *Provider) codeGrant(ctx context.Context, call tokenCall) (any, *oidc.Error) {
	code, redirect, verifier := call.form.Get("code"), call.form.Get("redirect_uri"), call.form.Get("code_verifier")
	switch {
	case code == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("code is required")
	case redirect == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("redirect_uri is required")
	}
	a, err := p.codeRequest(ctx, code, exchange{clientID: call.client.ID, redirectURI: redirect, verifier: verifier, jkt: call.jkt})
	if err != nil {
		return nil, asOAuthError(err)
	}
	switch {
	case a.r.ClientID != call.client.ID:
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was issued to another client")
	case a.r.RedirectURI != redirect:
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri is not the one the code was requested with")
	}
	if err := op.AuthorizeCodeChallenge(verifier, a.GetCodeChallenge()); err != nil {
		return nil, asOAuthError(err)
	}
	switch {
	case a.r.DPoPJKT != "" && call.jkt == "":
		return nil, errDPoP("this code is bound to a DPoP key (dpop_jkt): send a proof made with it")
	case a.r.DPoPJKT != "" && call.jkt != a.r.DPoPJKT:
		return nil, errDPoP("this code is bound to another DPoP key (dpop_jkt)")
	}
	resp, err := op.CreateTokenResponse(context.WithValue(ctx, exchangedKey{}, a), a, p.opClient(call.client), p.op, true, code, "")
	if err != nil {
		return nil, asOAuthError(err)
	}
	return resp, nil
}

// exchangedKey carries, through op.CreateTokenResponse, the request whose
// code the grant exchanges. op deletes the request after minting its
// tokens (DeleteAuthRequest); the code's claim has deleted it already, in
// the statement that consumed the code (storage.AuthRequests.ClaimAuthCode),
// so the second delete would be a database round trip that finds nothing.
type exchangedKey struct{}

// deletedWithCode reports whether request id is the one ctx's code grant
// exchanged and its code's claim succeeded (claimCode empties codeKey only
// then), so that the claim deleted it.
func deletedWithCode(ctx context.Context, id string) bool {
	a, _ := ctx.Value(exchangedKey{}).(*authRequest)
	return a != nil && a.r.ID == id && a.codeKey == "" && !a.refused
}

// refreshGrant is the refresh token grant (RFC 6749 §6), rotating: a token
// used twice revokes its family (tokens.go).
func (p *Provider) refreshGrant(ctx context.Context, call tokenCall) (any, *oidc.Error) {
	value := call.form.Get("refresh_token")
	if value == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("refresh_token is required")
	}
	req, err := (&opStorage{p}).TokenRequestByRefreshToken(ctx, value)
	switch {
	case errors.Is(err, storage.ErrConsumed):
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token has already been used; its family is revoked")
	case errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is unknown, expired or revoked")
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if req.GetClientID() != call.client.ID {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was issued to another client")
	}
	if oerr := checkRefreshBinding(req.(*refreshRequest).t, call.jkt); oerr != nil {
		return nil, oerr
	}
	if err := op.ValidateRefreshTokenScopes(strings.Fields(call.form.Get("scope")), req); err != nil {
		return nil, oidc.ErrInvalidScope().WithDescription("scope may only narrow the scopes the refresh token was issued with")
	}
	resp, err := op.CreateTokenResponse(ctx, req, p.opClient(call.client), p.op, true, "", value)
	if err != nil {
		return nil, asOAuthError(err)
	}
	return resp, nil
}

// clientCredentialsGrant is a confidential client's token for itself (RFC
// 6749 §4.4).
func (p *Provider) clientCredentialsGrant(ctx context.Context, call tokenCall) (any, *oidc.Error) {
	if call.client.Public {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("a public client cannot use client_credentials")
	}
	req, err := (&opStorage{p}).ClientCredentialsTokenRequest(ctx, call.client.ID, strings.Fields(call.form.Get("scope")))
	if err != nil {
		return nil, asOAuthError(err)
	}
	resp, err := op.CreateClientCredentialsTokenResponse(ctx, req, p.op, p.opClient(call.client))
	if err != nil {
		return nil, asOAuthError(err)
	}
	return resp, nil
}
