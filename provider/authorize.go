package provider

import (
	"context"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authorizer is op's Authorizer (the op.Provider) with Tsubasa's checks in
// front of op's validation of an authorization request
// (op.AuthorizeValidator). op answers an error by redirecting it to the
// request's redirect_uri unless the error disables that, so the order
// matters: first whether the redirect URI is the client's, exactly
// (until then every error is the error page, which cmd renders), then
// the response type and mode against the tables (metadata.go), then op's
// own checks (prompt, scopes, the client's response types,
// id_token_hint).
type authorizer struct {
	*op.Provider
	p *Provider
}

var _ op.AuthorizeValidator = authorizer{}

func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ op.Storage, verifier *op.IDTokenHintVerifier) (string, error) {
	c, err := a.p.clients.get(ctx, req.ClientID)
	if err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client").WithParent(err)
	}
	// op un-escapes the redirect URI before matching it; an error must only
	// ever be sent to the exact registered string.
	if !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	client := a.p.opClient(c)
	// op's rules for the redirect URI's scheme, as for a code response:
	// it is the only response Tsubasa sends, and an error redirect carries
	// no token (op refuses http redirect URIs for token responses).
	if err := op.ValidateAuthReqRedirectURI(client, req.RedirectURI, oidc.ResponseTypeCode); err != nil {
		return "", err
	}
	if err := checkResponse(req); err != nil {
		return "", err
	}
	return op.ValidateAuthRequestClient(ctx, req, client, verifier)
}

// checkResponse refuses a response type or mode outside the tables, with
// an error op redirects (RFC 6749 §4.1.2.1: unsupported_response_type).
// The error goes back in the requested mode if Tsubasa answers in it, else
// in the response type's default mode (OAuth 2.0 Multiple Response Type
// Encoding Practices §2.1, §5: the fragment for any response type but code
// and none), where a relying party that asked for it looks. An empty
// response_type is op's to refuse (invalid_request).
func checkResponse(req *oidc.AuthRequest) error {
	modeOK := req.ResponseMode == "" || slices.Contains(responseModes, req.ResponseMode)
	typeOK := req.ResponseType == "" || supportedResponseType(req.ResponseType)
	if !modeOK {
		req.ResponseMode = defaultResponseMode(req.ResponseType)
	}
	if !typeOK {
		if req.ResponseMode == "" {
			req.ResponseMode = defaultResponseMode(req.ResponseType)
		}
		return (&oidc.Error{ErrorType: "unsupported_response_type"}).
			WithDescription("response_type must be one of: %s", strings.Join(strs(supportedResponseTypes()), ", "))
	}
	if !modeOK {
		return oidc.ErrInvalidRequest().
			WithDescription("response_mode must be one of: %s", strings.Join(strs(responseModes), ", "))
	}
	return nil
}

func defaultResponseMode(rt oidc.ResponseType) oidc.ResponseMode {
	if rt == oidc.ResponseTypeCode || rt == "none" || rt == "" {
		return oidc.ResponseModeQuery
	}
	return oidc.ResponseModeFragment
}

func supportedResponseTypes() []oidc.ResponseType {
	out := make([]oidc.ResponseType, len(responseTypes))
	for i, t := range responseTypes {
		out[i] = t.value
	}
	return out
}
