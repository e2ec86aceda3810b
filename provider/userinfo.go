package provider

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// serveUserinfo is the UserInfo endpoint (OpenID Connect Core 1.0 §5.3)
// with RFC 6750's errors and RFC 9449's, Tsubasa's rather than op's: op
// answers a token it cannot read with a text/plain 401 without a
// challenge, an expired, revoked or foreign token with 403, and knows no
// DPoP. Here (dpopresource.go has the token checks):
//
//	no token                       401, Bearer and DPoP challenges (no error code, §3.1)
//	malformed request              400 invalid_request (token in the URL, or sent two ways)
//	invalid, expired, revoked      401 invalid_token
//	a DPoP-bound token as Bearer   401 invalid_token
//	a proof that fails             401 invalid_dpop_proof (use_dpop_nonce for a missing nonce)
//	token without the openid scope 403 insufficient_scope
//	storage not answering          503 temporarily_unavailable, Retry-After, no challenge
//
// The token comes in the Authorization header (GET or POST, Bearer or
// DPoP) or, as a Bearer token, the POST body (RFC 6750 §2.1, §2.2); never
// from the query, which ends up in logs and Referer headers.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	// guardForms has parsed the form (and answered one that does not parse).
	url := p.op.UserinfoEndpoint().Absolute(p.opts.Issuer)
	t, rerr := p.resourceToken(r, url, oidc.ScopeOpenID, true)
	if rerr != nil {
		if rerr.Status >= http.StatusInternalServerError {
			p.log.ErrorContext(r.Context(), "userinfo failed", "err", rerr.Err)
		}
		if rerr.Err == ErrInsufficientScope {
			rerr.Description = "the access token was not issued with the openid scope"
		}
		rerr.Write(w)
		return
	}
	info, err := p.userinfoFor(r.Context(), t)
	switch {
	case errors.Is(err, errTokenInvalid):
		(&ResourceError{Status: http.StatusUnauthorized, Code: "invalid_token", DPoP: t.JKT != "",
			Description: "the access token is invalid, expired or revoked"}).Write(w)
	case storage.Unavailable(err):
		p.log.ErrorContext(r.Context(), "userinfo failed: storage unavailable", "err", err)
		storageAway(err).Write(w)
	case err != nil:
		p.log.ErrorContext(r.Context(), "userinfo failed", "err", err)
		writeError(w, http.StatusInternalServerError, "server_error", "the claims could not be read")
	default:
		if n := p.DPoPNonce(); n != "" && t.JKT != "" {
			w.Header().Set("DPoP-Nonce", n)
		}
		writeJSON(w, http.StatusOK, info)
	}
}

// userinfoByID is the claims for the token id and subject op decrypted.
func (p *Provider) userinfoByID(ctx context.Context, id, subject string) (*oidc.UserInfo, error) {
	t, err := p.accessTokenByID(ctx, id, subject)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.Scopes, oidc.ScopeOpenID) {
		return nil, ErrInsufficientScope
	}
	return p.userinfoFor(ctx, t)
}

// userinfoFor returns the member's claims for a checked access token's
// scopes. errTokenInvalid: the token stands for no member (a client's own
// token), or the member is gone or disabled. Other errors are the store's.
func (p *Provider) userinfoFor(ctx context.Context, t storage.Token) (*oidc.UserInfo, error) {
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
