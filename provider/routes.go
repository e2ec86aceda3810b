package provider

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// routes composes the provider's handler, outermost first:
//
//	withWireHeaders    the headers of every OAuth/OIDC answer (wire.go)
//	wellKnown          discovery and /keys from prebuilt bytes (wellknown.go)
//	guardForms         unparsable forms answered 400/413 (formguard.go)
//	withClientContext  the token endpoint's client and exchange, for storage calls (opstorage.go)
//	ownEndpoints       /authorize: op's handler behind Tsubasa's checks (authorize.go)
//	                   /userinfo (userinfo.go), /oauth/introspect (introspect.go): Tsubasa's
//	                   /oauth/token: the grant gate (gateGrants), then op; /revoke: op
//	                   token, revocation, introspection: POST with a body only (postBody),
//	                   client authentication by the advertised methods only (clientauth.go)
//	                   /end_session: validated here, then handed to the login UI (endsession.go)
//	                   /device_authorization: 404 while the device grant is not in grantTypes
//	op's router        /oauth/token, /revoke, /authorize/callback, /keys by other methods
//
// Endpoints that take over from op keep its paths and its CORS.
func (p *Provider) routes(prov *op.Provider, discovery *document) http.Handler {
	withCORS := func(h http.Handler) http.Handler { return h }
	// op.CreateRouter wraps its routes in rs/cors with these options; a nil
	// means op serves them without CORS.
	if opts := prov.CORSOptions(); opts != nil {
		withCORS = cors.New(*opts).Handler
	}
	issuer := op.NewIssuerInterceptor(prov.IssuerFromRequest)
	own := ownEndpoints{next: prov, handlers: map[string]http.Handler{
		// No CORS at /authorize: it is a browser navigation, never a fetch,
		// and op's CORS would reflect any origin with credentials.
		prov.AuthorizationEndpoint().Relative(): issuer.HandlerFunc(p.authorize(prov)),
		prov.UserinfoEndpoint().Relative():      withCORS(http.HandlerFunc(p.serveUserinfo)),
		prov.IntrospectionEndpoint().Relative(): withCORS(postBody(tokenParams, http.HandlerFunc(p.serveIntrospection))),
		prov.TokenEndpoint().Relative():         postBody(grantParams, gateGrants(requireAuthMethods(tokenAuthMethods, prov))),
		prov.RevocationEndpoint().Relative():    postBody(tokenParams, requireAuthMethods(revocationAuthMethods, prov)),
		prov.EndSessionEndpoint().Relative():    http.HandlerFunc(p.serveEndSession),
	}}
	if !slices.Contains(grantTypes, string(oidc.GrantTypeDeviceCode)) {
		// op routes its device authorization endpoint whatever the grants.
		own.handlers[prov.DeviceAuthorizationEndpoint().Relative()] = http.HandlerFunc(notOffered)
	}
	var h http.Handler = own
	h = p.withClientContext(h)
	h = guardForms(h)
	h = newWellKnown(prov, withCORS, discovery, p.keys, h)
	return withWireHeaders(map[string]wireClass{
		oidc.DiscoveryEndpoint:                  wireMetadata,
		prov.KeysEndpoint().Relative():          wireMetadata,
		prov.TokenEndpoint().Relative():         wireClientAuth,
		prov.IntrospectionEndpoint().Relative(): wireClientAuth,
		prov.RevocationEndpoint().Relative():    wireClientAuth,
		prov.UserinfoEndpoint().Relative():      wireBearer,
		prov.EndSessionEndpoint().Relative():    wireLogout,
	}, h)
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

// The parameters the token endpoint (grantParams) and the revocation and
// introspection endpoints (tokenParams) read: RFC 6749 §2.3.1, §4.1.3,
// §4.4.2, §6; RFC 7636 §4.5; RFC 7009 §2.1; RFC 7662 §2.1. Others are
// ignored, repeated or not.
var (
	grantParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
		"client_id", "client_secret", "client_assertion", "client_assertion_type"}
	tokenParams = []string{"token", "token_type_hint", "client_id", "client_secret"}
)

// gateGrants refuses at the token endpoint every grant type that is not in
// grantTypes (metadata.go) with unsupported_grant_type, before op
// dispatches it: op would otherwise try the JWT bearer grant (failing it
// as a server error), token exchange or the device code. grant_type is read
// as op reads it (FormValue; postBody has refused a query). A missing
// grant_type is op's to refuse (invalid_request).
func gateGrants(next http.Handler) http.Handler {
	supported := "supported grant types: " + strings.Join(grantTypes, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g := r.FormValue("grant_type"); g != "" && !slices.Contains(grantTypes, g) {
			writeError(w, http.StatusBadRequest, string(oidc.UnsupportedGrantType), supported)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notOffered answers an endpoint of a grant Tsubasa does not offer.
func notOffered(w http.ResponseWriter, _ *http.Request) {
	noStore(w)
	writeError(w, http.StatusNotFound, "invalid_request", "this grant is not offered")
}
