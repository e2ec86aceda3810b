package provider

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// authenticateClient authenticates the client of a request to one of
// Tsubasa's own endpoints that takes the given methods (metadata.go):
// client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded, then
// Basic), client_secret_post (in the body: the form is r.PostForm), or none (a
// public client naming itself with client_id). A request uses one method
// (§2.3). Every failure past the method check is the same invalid_client
// with the same text, and an unknown client costs the HMAC a known one
// does, so the answer does not tell whether a client exists.
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
	if id == "" {
		return storage.Client{}, oidc.ErrInvalidClient().WithDescription("client_id is required")
	}
	c, err := p.clients.get(r.Context(), id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.Client{}, oidc.ErrServerError().WithParent(err)
	}
	failed := oidc.ErrInvalidClient().WithDescription("client authentication failed")
	if method == oidc.AuthMethodNone {
		if err != nil || !c.Public {
			return storage.Client{}, failed
		}
		return c, nil
	}
	if !p.checkSecret(c, secret) { // a zero Client when unknown: still hashed
		return storage.Client{}, failed
	}
	return c, nil
}

// clientCredentials reads what the request presents to authenticate its
// client, and by which method.
func clientCredentials(r *http.Request) (id, secret string, method oidc.AuthMethod, oerr *oidc.Error) {
	form := r.PostForm
	if len(form["client_id"]) > 1 || len(form["client_secret"]) > 1 {
		return "", "", "", oidc.ErrInvalidRequest().WithDescription("client_id and client_secret may be sent once")
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

// requireAuthMethods refuses, in front of an endpoint where op
// authenticates the client, a request that authenticates by a method not in
// methods (metadata.go), or by two: op would try some of them (a client
// assertion at the refresh grant ends in a server error) and take Basic
// over a secret in the form at the client credentials grant. The form must
// be parsed; a CORS preflight passes.
func requireAuthMethods(methods []oidc.AuthMethod, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_, _, m, oerr := clientCredentials(r)
			if oerr == nil && !slices.Contains(methods, m) {
				oerr = methodRefused(m)
			}
			if oerr != nil {
				writeOAuthError(w, oerr)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeOAuthError answers with e as JSON: 401 for invalid_client (the
// Basic challenge is added by withWireHeaders), 500 for server_error, 400
// otherwise, as RFC 6749 §5.2 has it. The cause (e.Parent) is not sent.
func writeOAuthError(w http.ResponseWriter, e *oidc.Error) {
	status := http.StatusBadRequest
	switch e.ErrorType {
	case oidc.InvalidClient:
		status = http.StatusUnauthorized
	case oidc.ServerError:
		status = http.StatusInternalServerError
	}
	writeError(w, status, string(e.ErrorType), e.Description)
}
