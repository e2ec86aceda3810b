package provider

import (
	"errors"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// serveRevocation is RFC 7009 token revocation, Tsubasa's rather than op's
// so that clients authenticate here exactly as at the token endpoint
// (clientauth.go, private_key_jwt included). The token is found as op
// finds it (a refresh token by its hash unless the hint says
// access_token, else an access token by decryption); RevokeToken
// (tokens.go) decides whose it is. postBody has made sure of a POST with
// a parsed form whose parameters appear once.
//
// 200 with an empty body for every token the caller may name, revoked or
// not (§2.2): unknown, expired and another client's alike.
func (p *Provider) serveRevocation(w http.ResponseWriter, r *http.Request) {
	c, oerr := p.authenticateClient(r, revocationAuthMethods)
	if oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	ctx := r.Context()
	id, subject, found := token, "", false
	if r.PostForm.Get("token_type_hint") != "access_token" {
		sub, tokenID, err := (&opStorage{p}).GetRefreshTokenInfo(ctx, c.ID, token)
		switch {
		case err == nil:
			id, subject, found = tokenID, sub, true
		case !errors.Is(err, op.ErrInvalidRefreshToken):
			p.writeTokenError(w, r, asOAuthError(err))
			return
		}
	}
	if !found {
		if plain, err := p.op.Crypto().Decrypt(token); err == nil {
			if tokenID, sub, ok := strings.Cut(plain, ":"); ok {
				id, subject = tokenID, sub
			}
		}
	}
	if oerr := (&opStorage{p}).RevokeToken(ctx, id, subject, c.ID); oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
}
