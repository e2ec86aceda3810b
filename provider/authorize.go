package provider

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
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
// as parsed (or as a pushed request or a request object gave them), for
// what op does not decode (request_uri); pushed says the request came
// through the pushed authorization request endpoint (par.go).
//
// Its Encoder adds iss to every answer (RFC 9207, iss.go).
type authorizer struct {
	*op.Provider
	p      *Provider
	form   url.Values
	pushed bool
}

var _ op.AuthorizeValidator = authorizer{}

func (a authorizer) Encoder() httphelper.Encoder { return a.p.responder.enc }

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
			a.refuse(w, r, oidc.ErrInvalidRequest().WithDescription("%s", problem))
			return
		}
		if err == nil && !p.resolveRequest(w, r, &a) {
			return
		}
		if err == nil {
			x, oerr := parseExtras(r.Form) // requestextras.go
			if oerr != nil {
				a.refuse(w, r, oerr)
				return
			}
			r = r.WithContext(withExtras(r.Context(), x))
			// op takes a client it cannot read for an unknown one (a
			// 400 "unknown client"): while storage does not answer,
			// a registered client is told to try again instead. The
			// read is cached, so op's own lookup after it costs nothing.
			if id := r.Form.Get("client_id"); id != "" {
				if _, cerr := p.clients.get(r.Context(), id); storage.Unavailable(cerr) {
					p.tryAgainLater(w, r, cerr)
					return
				}
			}
		}
		op.Authorize(w, r, a)
	}
}

// resolveRequest replaces a request made by reference (a pushed request's
// request_uri: par.go) or by value (a signed request object:
// requestobject.go) with the parameters it stands for, before op reads
// them: r.Form becomes those parameters, and the query's others are
// ignored (RFC 9126 §4, RFC 9101 §6.3). It reports false when it has
// answered the request itself. A request object of a client without keys,
// or of an unknown client, and a request_uri Tsubasa did not hand out,
// are left for ValidateAuthRequest to refuse.
func (p *Provider) resolveRequest(w http.ResponseWriter, r *http.Request, a *authorizer) bool {
	ctx := r.Context()
	switch {
	case r.Form.Get("request") != "" && r.Form.Get("request_uri") != "":
		// RFC 9101 §5: one or the other; which would be the request?
		a.refuse(w, r, oidc.ErrInvalidRequest().WithDescription("request and request_uri must not both be sent"))
		return false
	case isPushedURI(r.Form.Get("request_uri")):
		params, ok := p.claimPushed(ctx, r.Form)
		if !ok {
			p.requestURIRefused(w, r)
			return false
		}
		a.pushed = true
		r.Form = params
	case r.Form.Get("request") != "":
		c, err := p.clients.get(ctx, r.Form.Get("client_id"))
		if err != nil || !hasKeys(c) {
			return true
		}
		params, oerr := p.requestObjectParams(ctx, c, r.Form.Get("request"))
		if oerr != nil {
			p.log.InfoContext(ctx, "request object refused", "client_id", c.ID, "reason", oerr.Description)
			a.refuse(w, r, oerr)
			return false
		}
		r.Form = params
	default:
		return true
	}
	a.form = r.Form
	return true
}

// authorizeParams are the parameters /authorize reads (OpenID Connect
// Core 1.0 §3.1.2.1, §5.5, §6; RFC 7636 §4.3). Each may appear once;
// others are ignored, repeated or not (RFC 6749 §3.1).
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"response_mode", "display", "prompt", "max_age", "ui_locales", "claims_locales", "id_token_hint", "login_hint",
	"acr_values", "claims", "code_challenge", "code_challenge_method", "request", "request_uri", "dpop_jkt"}

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

// refuse answers a request found wrong before op decodes it (formProblem,
// a request object that does not verify) with e: at the redirect URI of
// the query when the client and its redirect URI are sound and given once,
// else on the error page. A repeated state is echoed as neither value.
func (a authorizer) refuse(w http.ResponseWriter, r *http.Request, e *oidc.Error) {
	f := a.form
	req := &oidc.AuthRequest{ClientID: f.Get("client_id"), RedirectURI: f.Get("redirect_uri"),
		ResponseType: oidc.ResponseType(f.Get("response_type")), ResponseMode: oidc.ResponseMode(f.Get("response_mode"))}
	if len(f["state"]) == 1 {
		req.State = f.Get("state")
	}
	if len(f["client_id"]) > 1 || len(f["redirect_uri"]) > 1 {
		e = oidc.ErrInvalidRequestRedirectURI().WithDescription("%s", e.Description)
	} else if _, _, err := a.redirectURI(r.Context(), req); err != nil {
		e = oidc.DefaultToServerError(err, "")
	} else {
		_ = checkResponse(req) // for its choice of the mode to answer in
	}
	op.AuthRequestError(w, r, req, e, a)
}

func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ op.Storage, verifier *op.IDTokenHintVerifier) (string, error) {
	c, client, err := a.redirectURI(ctx, req)
	if err != nil {
		return "", err
	}
	if err := checkResponse(req); err != nil {
		return "", err
	}
	if err := a.refuseRequestObjects(req); err != nil {
		return "", err
	}
	if a.p.requiresPAR(c) && !a.pushed {
		return "", requirePARError()
	}
	return op.ValidateAuthRequestClient(ctx, req, client, verifier)
}

// redirectURI checks that req's redirect URI is, exactly, one its client
// registered and one op's rules allow; its errors are never redirected.
func (a authorizer) redirectURI(ctx context.Context, req *oidc.AuthRequest) (storage.Client, op.Client, error) {
	c, err := a.p.clients.get(ctx, req.ClientID)
	if err != nil {
		return c, nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client").WithParent(err)
	}
	// op un-escapes the redirect URI before matching it; an error must only
	// ever be sent to the registered string (redirects.go).
	if !redirectRegistered(c, req.RedirectURI) {
		return c, nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	client := a.p.opClient(c)
	// op's rules for the redirect URI's scheme, as for a code response:
	// it is the only response Tsubasa sends, and an error redirect carries
	// no token (op refuses http redirect URIs for token responses).
	if err := op.ValidateAuthReqRedirectURI(client, req.RedirectURI, oidc.ResponseTypeCode); err != nil {
		return c, nil, err
	}
	return c, client, nil
}

// refuseRequestObjects answers what resolveRequest left: a request
// object of a client that registered no keys to verify it with, and a
// request_uri that is not one the pushed authorization request endpoint
// handed out, with the errors OpenID Connect Core 1.0 §6.1 and §6.2 name
// for them (discovery says request_uri_parameter_supported false). Going
// on without the object would answer a request other than the one the
// client made, with parameters (nonce, max_age, acr_values …) it put only
// there. A request_uri is never fetched: a URL of the client's choosing
// fetched on every authorization request is an outbound request a
// stranger could aim, and pushed requests give a client the same without it.
func (a authorizer) refuseRequestObjects(req *oidc.AuthRequest) error {
	switch {
	case a.form.Get("request_uri") != "":
		return (&oidc.Error{ErrorType: "request_uri_not_supported"}).WithDescription("request_uri is supported only as the pushed authorization request endpoint hands it out: push the request there, or send the parameters in the query or the form")
	case req.RequestParam != "":
		return oidc.ErrRequestNotSupported().WithDescription("request objects are supported only from clients that registered keys (jwks or jwks_uri): send the parameters in the query or the form")
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
