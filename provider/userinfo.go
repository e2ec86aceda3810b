package provider

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// serveUserinfo is the UserInfo endpoint (OpenID Connect Core 1.0 §5.3)
// with RFC 6750's errors, Tsubasa's rather than op's: op answers a token
// it cannot read with a text/plain 401 without a challenge, and an expired,
// revoked or foreign token with 403. Here:
//
//	no token                      401, WWW-Authenticate: Bearer realm (no error code, §3.1)
//	malformed request             400 invalid_request (token in the URL, or sent two ways)
//	invalid, expired, revoked     401 invalid_token
//	token without the openid scope 403 insufficient_scope
//
// The token comes in the Authorization header (GET or POST) or the POST
// body (RFC 6750 §2.1, §2.2); never from the query, which ends up in logs
// and Referer headers.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	// guardForms has parsed the form (and answered one that does not parse).
	bearer, desc := bearerToken(r)
	switch {
	case desc != "":
		bearerError(w, http.StatusBadRequest, "invalid_request", desc)
		return
	case bearer == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
		writeError(w, http.StatusUnauthorized, "invalid_request",
			"an access token is required, as a Bearer token in the Authorization header")
		return
	}
	info, err := p.userinfo(r.Context(), bearer)
	switch {
	case errors.Is(err, errTokenInvalid):
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
	case errors.Is(err, ErrInsufficientScope):
		bearerError(w, http.StatusForbidden, "insufficient_scope", "the access token was not issued with the openid scope")
	case storage.Unavailable(err):
		p.log.ErrorContext(r.Context(), "userinfo failed: storage unavailable", "err", err)
		w.Header().Set("Retry-After", retryAfter)
		e := temporarilyUnavailable()
		writeError(w, http.StatusServiceUnavailable, string(e.ErrorType), e.Description)
	case err != nil:
		p.log.ErrorContext(r.Context(), "userinfo failed", "err", err)
		writeError(w, http.StatusInternalServerError, "server_error", "the claims could not be read")
	default:
		writeJSON(w, http.StatusOK, info)
	}
}

// bearerToken returns the access token of a userinfo request, or a
// description of what is wrong with the request.
func bearerToken(r *http.Request) (token, problem string) {
	if r.URL.Query().Has("access_token") {
		return "", "the access token must not be sent in the URL"
	}
	var fromHeader string
	switch auth := r.Header.Values("Authorization"); len(auth) {
	case 0:
	case 1:
		// The scheme is case-insensitive (RFC 9110 §11.1); another scheme
		// is no bearer token.
		if scheme, rest, _ := strings.Cut(auth[0], " "); strings.EqualFold(scheme, "Bearer") {
			if fromHeader = strings.TrimLeft(rest, " "); fromHeader == "" {
				return "", "the Authorization header carries an empty Bearer token"
			}
		}
	default:
		return "", "the request carries more than one Authorization header"
	}
	fromBody := r.PostForm["access_token"] // only a POSTed form fills PostForm
	switch {
	case len(fromBody) > 1 || len(fromBody) == 1 && fromHeader != "":
		return "", "the access token must be sent once, in one way"
	case len(fromBody) == 1:
		return fromBody[0], ""
	}
	return fromHeader, ""
}

// bearerError answers with an RFC 6750 §3 error: the challenge and the
// same error as JSON. Descriptions are fixed texts without quotes.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	challenge := `Bearer realm="` + realm + `", error="` + code + `", error_description="` + desc + `"`
	if code == "insufficient_scope" {
		challenge += `, scope="openid"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, status, code, desc)
}

// userinfo returns the member's claims for a bearer access token's scopes.
// errTokenInvalid: the token does not decrypt, has expired, was revoked,
// stands for no member, or the member is gone or disabled;
// ErrInsufficientScope: it lacks openid. Other errors are the store's.
func (p *Provider) userinfo(ctx context.Context, bearer string) (*oidc.UserInfo, error) {
	plain, err := p.op.Crypto().Decrypt(bearer)
	if err != nil {
		return nil, errTokenInvalid
	}
	id, subject, ok := strings.Cut(plain, ":")
	if !ok {
		return nil, errTokenInvalid
	}
	return p.userinfoByID(ctx, id, subject)
}

// userinfoByID is userinfo for the token id and subject op decrypted.
func (p *Provider) userinfoByID(ctx context.Context, id, subject string) (*oidc.UserInfo, error) {
	t, err := p.accessTokenByID(ctx, id, subject)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.Scopes, oidc.ScopeOpenID) {
		return nil, ErrInsufficientScope
	}
	if t.MemberID == "" {
		return nil, errTokenInvalid // a client's own token (client_credentials)
	}
	m, err := p.store.MemberByID(ctx, t.MemberID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errTokenInvalid
	case err != nil:
		return nil, err
	case m.Status == storage.MemberDisabled:
		return nil, errTokenInvalid
	}
	info := &oidc.UserInfo{Subject: t.Subject}
	setClaims(info, m, t.Scopes)
	return info, nil
}
