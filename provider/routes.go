package provider

import (
	"net/http"
	"slices"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// routes composes the provider's handler, outermost first:
//
//	withWireHeaders    the headers of every OAuth/OIDC answer (wire.go)
//	wellKnown          discovery and /keys from prebuilt bytes (wellknown.go)
//	guardForms         unparsable forms answered 400/413 (formguard.go)
//	ownEndpoints       Tsubasa's endpoints, one file each (the table below):
//	                   /authorize: op's handler behind Tsubasa's checks and request
//	                   sources (authorize.go: pushed requests, request objects)
//	                   /authorize/callback: op's, answering with iss (iss.go)
//	                   /oauth/par (par.go), /oauth/token (token.go), /revoke (revoke.go),
//	                   /oauth/introspect (introspect.go): POST with a body only
//	                   (postBody), clients authenticated in one place (clientauth.go)
//	                   /userinfo (userinfo.go); /end_session: validated here, then
//	                   handed to the login UI (endsession.go)
//	                   /device_authorization: 404 while the device grant is not in grantTypes
//	op's router        /keys by other methods; nothing else of op's is reached
//
// Endpoints keep op's paths and its CORS (none at /authorize). Endpoints
// that need the issuer in their context (op's building blocks read it
// there) get op's issuer interceptor.
func (p *Provider) routes(prov *op.Provider, discovery *document) http.Handler {
	withCORS := func(h http.Handler) http.Handler { return h }
	// op.CreateRouter wraps its routes in rs/cors with these options; a nil
	// means op serves them without CORS.
	if opts := prov.CORSOptions(); opts != nil {
		withCORS = cors.New(*opts).Handler
	}
	issuer := op.NewIssuerInterceptor(prov.IssuerFromRequest).HandlerFunc
	authorizePath := prov.AuthorizationEndpoint().Relative()
	own := ownEndpoints{next: prov, handlers: map[string]http.Handler{
		// No CORS at /authorize: it is a browser navigation, never a fetch,
		// and op's CORS would reflect any origin with credentials.
		authorizePath:                           issuer(p.authorize(prov)),
		authorizePath + "/callback":             issuer(p.serveCallback),
		parPath:                                 withCORS(postBody(parParams, issuer(p.servePAR))),
		prov.TokenEndpoint().Relative():         withCORS(postBody(grantParams, issuer(p.serveToken))),
		prov.RevocationEndpoint().Relative():    withCORS(postBody(tokenParams, http.HandlerFunc(p.serveRevocation))),
		prov.IntrospectionEndpoint().Relative(): withCORS(postBody(tokenParams, http.HandlerFunc(p.serveIntrospection))),
		prov.UserinfoEndpoint().Relative():      withCORS(http.HandlerFunc(p.serveUserinfo)),
		prov.EndSessionEndpoint().Relative():    http.HandlerFunc(p.serveEndSession),
	}}
	devicePath := prov.DeviceAuthorizationEndpoint().Relative()
	if slices.Contains(grantTypes, GrantDeviceCode) {
		own.handlers[devicePath] = withCORS(postBody(deviceParams, issuer(p.serveDeviceAuthorization))) // device.go
	} else {
		// op routes its device authorization endpoint whatever the grants.
		own.handlers[devicePath] = http.HandlerFunc(notOffered)
	}
	var h http.Handler = own
	h = guardForms(h)
	h = newWellKnown(prov, withCORS, discovery, p.keys, h)
	return withWireHeaders(map[string]wireClass{
		oidc.DiscoveryEndpoint:                  wireMetadata,
		prov.KeysEndpoint().Relative():          wireMetadata,
		prov.TokenEndpoint().Relative():         wireClientAuth,
		prov.IntrospectionEndpoint().Relative(): wireClientAuth,
		prov.RevocationEndpoint().Relative():    wireClientAuth,
		parPath:                                 wireClientAuth,
		devicePath:                              wireClientAuth,
		prov.UserinfoEndpoint().Relative():      wireBearer,
		prov.EndSessionEndpoint().Relative():    wireLogout,
	}, h)
}

// serveCallback answers a finished request (/authorize/callback?id=) as
// op's AuthorizeCallback does, through the responder so that the answer
// carries iss, and with 503 when storage cannot read the request: op's
// own answers any failed read 400, printing the error's chain.
func (p *Provider) serveCallback(w http.ResponseWriter, r *http.Request) {
	id, err := op.ParseAuthorizeCallbackRequest(r)
	if err != nil {
		op.AuthRequestError(w, r, nil, oidc.ErrInvalidRequest().WithDescription("the callback names no authorization request"), p.responder)
		return
	}
	p.AnswerAuthRequest(w, r, id)
}

// ownEndpoints sends the paths it has handlers for (exact and unescaped,
// as op's router matches) to them, everything else to next.
type ownEndpoints struct {
	next     http.Handler
	handlers map[string]http.Handler
}

func (o ownEndpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := o.handlers[r.URL.Path]; ok && r.URL.RawPath == "" {
		h.ServeHTTP(w, r)
		return
	}
	o.next.ServeHTTP(w, r)
}

// postBody refuses what RFC 6749 §3.2, RFC 7009 §2.1 and RFC 7662 §2.1
// rule out at the endpoints that take credentials and tokens: any method
// but POST, parameters in the URL, where proxies and servers log them
// (op reads the query too), and any of the endpoint's params more than
// once (§3.2: MUST NOT; op would take the first). The advertised endpoint
// URIs have no query of their own, so any query is a misplaced parameter.
// A CORS preflight passes to the CORS handler behind.
func postBody(params []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
		case r.Method != http.MethodPost:
			methodNotAllowed(w, http.MethodPost)
			return
		case r.URL.RawQuery != "":
			writeError(w, http.StatusBadRequest, "invalid_request", "parameters belong in the POST body, not in the URL")
			return
		default:
			// guardForms has parsed the form (and answered one that does not parse).
			for _, k := range params {
				if len(r.PostForm[k]) > 1 {
					writeError(w, http.StatusBadRequest, "invalid_request", "each parameter may appear once; repeated: "+k)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// The parameters the token endpoint (grantParams), the revocation and
// introspection endpoints (tokenParams) and the pushed authorization
// request endpoint (parParams) read: RFC 6749 §2.3.1, §4.1.3, §4.4.2, §6;
// RFC 7636 §4.5; RFC 7009 §2.1; RFC 7662 §2.1; RFC 7521 §4.2; RFC 9126
// §2.1. Others are ignored, repeated or not.
var (
	clientAuthParams = []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"}
	grantParams      = append([]string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "device_code"},
		clientAuthParams...)
	tokenParams = append([]string{"token", "token_type_hint"}, clientAuthParams...)
	parParams   = append(slices.Clone(authorizeParams), clientAuthParams...)
)

// notOffered answers an endpoint of a grant Tsubasa does not offer.
func notOffered(w http.ResponseWriter, _ *http.Request) {
	noStore(w)
	writeError(w, http.StatusNotFound, "invalid_request", "this grant is not offered")
}
