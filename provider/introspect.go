package provider

import (
	"context"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// serveIntrospection is RFC 7662 token introspection, Tsubasa's rather than
// op's: op answers a failed client authentication with a text/plain 401
// whose body is the error chain (err.Error(), which differs between an
// unknown client and a wrong secret), takes the client from the Basic
// header only, and cannot find refresh tokens. Here (POST with a body
// only, by postBody, §2.1): confidential clients by client_secret_basic or client_secret_post
// (metadata.go), JSON errors, and {"active": false} for any token the
// caller may not see (§2.2: unknown, expired, revoked, another client's).
func (p *Provider) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	// guardForms has parsed the form (and answered one that does not parse).
	c, oerr := p.authenticateClient(r, introspectionAuthMethods)
	if oerr != nil {
		if oerr.ErrorType == oidc.ServerError {
			p.log.ErrorContext(r.Context(), "introspection: client lookup failed", "err", oerr.Parent)
		}
		writeOAuthError(w, oerr)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	resp, err := p.introspect(r.Context(), c.ID, token)
	if err != nil {
		// A token storage could not look up is not inactive: try again.
		writeOAuthError(w, oidc.ErrServerError().WithParent(err))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// introspect describes token to client clientID. Access tokens are found by
// decryption, refresh tokens by their hash; SetIntrospectionFromToken
// decides whether the client may see the token and what it learns. The
// error is storage's when it did not answer (storage.Unavailable): the
// token is then neither active nor inactive.
func (p *Provider) introspect(ctx context.Context, clientID, token string) (*oidc.IntrospectionResponse, error) {
	var id, subject string
	if plain, err := p.op.Crypto().Decrypt(token); err == nil {
		var ok bool
		if id, subject, ok = strings.Cut(plain, ":"); !ok {
			return &oidc.IntrospectionResponse{}, nil
		}
	} else if t, err := p.store.TokenByID(ctx, p.refreshTokenID(token)); err == nil && t.Kind == storage.RefreshToken {
		id, subject = t.ID, t.Subject
	} else if storage.Unavailable(err) {
		return nil, err
	} else {
		return &oidc.IntrospectionResponse{}, nil
	}
	resp := new(oidc.IntrospectionResponse)
	if err := (&opStorage{p}).SetIntrospectionFromToken(ctx, resp, id, subject, clientID); storage.Unavailable(err) {
		return nil, err
	} else if err != nil {
		return &oidc.IntrospectionResponse{}, nil
	}
	resp.Active = true
	return resp, nil
}
