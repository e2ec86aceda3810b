package provider

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// authenticateClient authenticates the client of a request to an endpoint
// that takes the given methods (metadata.go): client_secret_basic (RFC 6749
// §2.3.1: id and secret form-encoded, then Basic), client_secret_post (in
// the body: the form is r.PostForm), private_key_jwt (a client assertion,
// RFC 7523 §2.2, OpenID Connect Core 1.0 §9: clientassertion.go), or none
// (a public client naming itself with client_id). It is the one place
// every endpoint authenticates clients: the token endpoint, the pushed
// authorization request endpoint, revocation and introspection.
//
// A request uses one method (§2.3), and a client only the one it
// registered (its token_endpoint_auth_method; a client without one, from
// before it, uses none when public and either secret method otherwise).
// Every failure past the method check is the same invalid_client with the
// same text, and an unknown client costs the HMAC a known one does, so the
// answer does not tell whether a client exists or how it authenticates;
// the log says which check failed.
//
// The form must be parsed.
func (p *Provider) authenticateClient(r *http.Request, methods []oidc.AuthMethod) (storage.Client, *oidc.Error) {
	id, secret, method, oerr := clientCredentials(r)
	if oerr != nil {
		return storage.Client{}, oerr
	}
	if !slices.Contains(methods, method) {
		return storage.Client{}, methodRefused(method)
	}
	if method == oidc.AuthMethodPrivateKeyJWT {
		return p.assertedClient(r, id)
	}
	if id == "" {
		return storage.Client{}, oidc.ErrInvalidClient().WithDescription("client_id is required")
	}
	c, err := p.clients.get(r.Context(), id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.Client{}, oidc.ErrServerError().WithParent(err)
	}
	if method == oidc.AuthMethodNone {
		if err != nil || !registeredMethod(c, method) {
			return storage.Client{}, p.authFailed(r, id, "not a public client")
		}
		return c, nil
	}
	// A zero Client when unknown: the HMAC is still spent.
	if !p.checkSecret(c, secret) || !registeredMethod(c, method) {
		return storage.Client{}, p.authFailed(r, id, "no such client, a wrong secret, or not its method")
	}
	return c, nil
}

// errAuthFailed is every client authentication failure's answer.
func errAuthFailed() *oidc.Error {
	return oidc.ErrInvalidClient().WithDescription("client authentication failed")
}

// authFailed logs why client id failed to authenticate and returns the
// answer, which does not say.
func (p *Provider) authFailed(r *http.Request, id, why string) *oidc.Error {
	p.log.InfoContext(r.Context(), "client authentication failed", "client_id", id, "reason", why)
	return errAuthFailed()
}

// registeredMethod reports whether c authenticates by m.
func registeredMethod(c storage.Client, m oidc.AuthMethod) bool {
	switch c.TokenEndpointAuthMethod {
	case "":
		if c.Public {
			return m == oidc.AuthMethodNone
		}
		return m == oidc.AuthMethodBasic || m == oidc.AuthMethodPost
	case string(oidc.AuthMethodNone):
		return c.Public && m == oidc.AuthMethodNone
	default:
		return !c.Public && c.TokenEndpointAuthMethod == string(m)
	}
}

// clientCredentials reads what the request presents to authenticate its
// client, and by which method.
func clientCredentials(r *http.Request) (id, secret string, method oidc.AuthMethod, oerr *oidc.Error) {
	form := r.PostForm
	if len(form["client_id"]) > 1 || len(form["client_secret"]) > 1 ||
		len(form["client_assertion"]) > 1 || len(form["client_assertion_type"]) > 1 {
		return "", "", "", oidc.ErrInvalidRequest().WithDescription("client_id, client_secret and the client assertion may be sent once")
	}
	basicID, basicSecret, basic := r.BasicAuth()
	assertion := form.Has("client_assertion") || form.Has("client_assertion_type")
	post := form.Has("client_secret")
	switch {
	case basic && (post || assertion) || post && assertion:
		return "", "", "", oidc.ErrInvalidRequest().WithDescription("use one client authentication method per request")
	case assertion:
		return form.Get("client_id"), "", oidc.AuthMethodPrivateKeyJWT, nil
	case basic:
		id, err1 := url.QueryUnescape(basicID)
		secret, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return "", "", "", oidc.ErrInvalidClient().WithDescription("the Basic credentials are not form-encoded")
		}
		if postID := form.Get("client_id"); postID != "" && postID != id {
			return "", "", "", oidc.ErrInvalidRequest().WithDescription("client_id differs from the authenticated client")
		}
		return id, secret, oidc.AuthMethodBasic, nil
	case post:
		return form.Get("client_id"), form.Get("client_secret"), oidc.AuthMethodPost, nil
	default:
		return form.Get("client_id"), "", oidc.AuthMethodNone, nil
	}
}

// methodRefused is the answer to a client authentication method the
// endpoint does not take.
func methodRefused(m oidc.AuthMethod) *oidc.Error {
	if m == oidc.AuthMethodNone {
		return oidc.ErrInvalidClient().WithDescription("client authentication is required")
	}
	return oidc.ErrInvalidClient().WithDescription("client authentication by %s is not supported here", m)
}

// writeOAuthError answers with e as JSON: 401 with a Basic challenge for
// invalid_client (RFC 6749 §5.2: MUST when the client used the
// Authorization header; RFC 9110 §15.5.2: every 401 carries a challenge),
// 500 for server_error, 400 otherwise. The cause (e.Parent) is not sent;
// a bare code gets the description of errorDescriptions.
func writeOAuthError(w http.ResponseWriter, e *oidc.Error) {
	status := http.StatusBadRequest
	switch e.ErrorType {
	case oidc.InvalidClient:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", basicChallenge)
	case oidc.ServerError:
		status = http.StatusInternalServerError
		if storage.Unavailable(e.Parent) {
			// Nothing was decided: the client may try again (RFC 6749
			// §4.1.2.1's code for it; RFC 9110 §15.6.4).
			status, e = http.StatusServiceUnavailable, temporarilyUnavailable()
			w.Header().Set("Retry-After", retryAfter)
		}
	}
	desc := e.Description
	if desc == "" {
		desc = describe(string(e.ErrorType))
	}
	writeError(w, status, string(e.ErrorType), desc)
}

// retryAfter is the Retry-After of an answer given while storage was away
// (seconds): about what a load balancer's health check and the pool's
// reconnection take.
const retryAfter = "2"

// temporarilyUnavailable is the error of a request that storage could not
// answer (storage.Unavailable): nothing was decided, so a client that
// tries again later may well succeed. It is never "invalid".
func temporarilyUnavailable() *oidc.Error {
	return &oidc.Error{ErrorType: "temporarily_unavailable",
		Description: "the server cannot complete the request now; try again in a moment"}
}

// storageFailed is the OAuth error for a storage call that failed without
// deciding anything about the request: temporarily_unavailable when
// storage did not answer (storage.Unavailable), server_error otherwise.
// At the authorization endpoint it goes to the relying party (RFC 6749
// §4.1.2.1), which may simply send the member again.
func storageFailed(err error) *oidc.Error {
	if storage.Unavailable(err) {
		return temporarilyUnavailable().WithParent(err)
	}
	return oidc.ErrServerError().WithParent(err)
}
