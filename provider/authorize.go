package provider

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
// the response type and mode against the tables (metadata.go), then
// request objects, then op's own checks (prompt, scopes, the client's
// response types, id_token_hint).
//
// One authorizer serves one request: form is that request's parameters,
// as parsed, for what op does not decode (request_uri).
type authorizer struct {
	*op.Provider
	p    *Provider
	form url.Values
}

var _ op.AuthorizeValidator = authorizer{}

// authorize serves /authorize: op's handler with an authorizer, behind
// the checks of the raw parameters op cannot make. op keeps the first
// value of a repeated parameter, and answers a request it cannot decode
// (a max_age that is no number) with a plain 400 even when the client and
// its redirect URI are sound; RFC 6749 §4.1.2.1 wants both answered at
// the redirect URI with invalid_request (§3.1: a parameter MUST NOT
// appear twice). No answer of it is cached: each is for one request, and
// its redirects carry a state, an error or (from the login UI) a code.
func (p *Provider) authorize(prov *op.Provider) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		// A form that does not parse is op's to refuse (a plain 400, which
		// cmd turns into the error page); op's own ParseForm is then free.
		err := r.ParseForm()
		a := authorizer{Provider: prov, p: p, form: r.Form}
		if problem := formProblem(r.Form); err == nil && problem != "" {
			a.refuse(w, r, problem)
			return
		}
		op.Authorize(w, r, a)
	}
}

// authorizeParams are the parameters /authorize reads (OpenID Connect
// Core 1.0 §3.1.2.1, §5.5, §6; RFC 7636 §4.3). Each may appear once;
// others are ignored, repeated or not (RFC 6749 §3.1).
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"response_mode", "display", "prompt", "max_age", "ui_locales", "claims_locales", "id_token_hint", "login_hint",
	"acr_values", "claims", "code_challenge", "code_challenge_method", "request", "request_uri"}

// formProblem describes what is wrong with an authorization request's
// parameters before op decodes them, or returns "".
func formProblem(form url.Values) string {
	var repeated []string
	for _, k := range authorizeParams {
		if len(form[k]) > 1 {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) > 0 {
		return "each parameter may appear once; repeated: " + strings.Join(repeated, ", ")
	}
	if v := form.Get("max_age"); v != "" {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return "max_age must be a whole number of seconds"
		}
	}
	return ""
}

// refuse answers a request formProblem found wrong with invalid_request:
// at the redirect URI when the client and its redirect URI are sound and
// given once, else on the error page. A repeated state is echoed as
// neither value.
func (a authorizer) refuse(w http.ResponseWriter, r *http.Request, problem string) {
	f := a.form
	req := &oidc.AuthRequest{ClientID: f.Get("client_id"), RedirectURI: f.Get("redirect_uri"),
		ResponseType: oidc.ResponseType(f.Get("response_type")), ResponseMode: oidc.ResponseMode(f.Get("response_mode"))}
	if len(f["state"]) == 1 {
		req.State = f.Get("state")
	}
	e := oidc.ErrInvalidRequest().WithDescription("%s", problem)
	if len(f["client_id"]) > 1 || len(f["redirect_uri"]) > 1 {
		e = oidc.ErrInvalidRequestRedirectURI().WithDescription("%s", problem)
	} else if _, err := a.redirectURI(r.Context(), req); err != nil {
		e = oidc.DefaultToServerError(err, "")
	} else {
		_ = checkResponse(req) // for its choice of the mode to answer in
	}
	op.AuthRequestError(w, r, req, e, a)
}

func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ op.Storage, verifier *op.IDTokenHintVerifier) (string, error) {
	client, err := a.redirectURI(ctx, req)
	if err != nil {
		return "", err
	}
	if err := checkResponse(req); err != nil {
		return "", err
	}
	if err := a.refuseRequestObjects(req); err != nil {
		return "", err
	}
	return op.ValidateAuthRequestClient(ctx, req, client, verifier)
}

// redirectURI checks that req's redirect URI is, exactly, one its client
// registered and one op's rules allow; its errors are never redirected.
func (a authorizer) redirectURI(ctx context.Context, req *oidc.AuthRequest) (op.Client, error) {
	c, err := a.p.clients.get(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client").WithParent(err)
	}
	// op un-escapes the redirect URI before matching it; an error must only
	// ever be sent to the registered string (redirects.go).
	if !redirectRegistered(c, req.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	client := a.p.opClient(c)
	// op's rules for the redirect URI's scheme, as for a code response:
	// it is the only response Tsubasa sends, and an error redirect carries
	// no token (op refuses http redirect URIs for token responses).
	if err := op.ValidateAuthReqRedirectURI(client, req.RedirectURI, oidc.ResponseTypeCode); err != nil {
		return nil, err
	}
	return client, nil
}

// refuseRequestObjects answers a request object, by value or by
// reference, with the error OpenID Connect Core 1.0 §6.1 and §6.2 name
// for a provider without them (discovery says request_parameter_supported
// and request_uri_parameter_supported false). Going on without the object
// would answer a request other than the one the client made, with
// parameters (nonce, max_age, acr_values …) it put only there. A
// request_uri is never fetched.
func (a authorizer) refuseRequestObjects(req *oidc.AuthRequest) error {
	switch {
	case a.form.Get("request_uri") != "":
		return (&oidc.Error{ErrorType: "request_uri_not_supported"}).WithDescription("request_uri is not supported: send the parameters in the query or the form")
	case req.RequestParam != "":
		return oidc.ErrRequestNotSupported().WithDescription("request objects are not supported: send the parameters in the query or the form")
	}
	return nil
}

// checkResponse refuses a response type or mode outside the tables, with
// an error op redirects (RFC 6749 §4.1.2.1: unsupported_response_type).
// The error goes back in the requested mode if Tsubasa answers in it, else
// in the response type's default mode (OAuth 2.0 Multiple Response Type
// Encoding Practices §2.1, §5: the fragment for any response type but code
// and none), where a relying party that asked for it looks. A missing
// response_type is invalid_request, in the query (RFC 6749 §4.1.2.1);
// op would refuse it too, but its redirect URI rules, checked again
// with no response type, would turn an http loopback redirect URI's
// answer into the error page.
func checkResponse(req *oidc.AuthRequest) error {
	modeOK := req.ResponseMode == "" || slices.Contains(responseModes, req.ResponseMode)
	typeOK := req.ResponseType == "" || supportedResponseType(req.ResponseType)
	if !modeOK {
		req.ResponseMode = defaultResponseMode(req.ResponseType)
	}
	if req.ResponseType == "" {
		return oidc.ErrInvalidRequest().WithDescription("response_type is required: it must be code")
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
