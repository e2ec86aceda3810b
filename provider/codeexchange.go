package provider

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// The code exchange's side of an authorization request: finding the
// request of a code presented at the token endpoint (from the code itself,
// codeseal.go, or from its row), the checks before its tokens, and the
// claim that spends the code with them (token.go, tokens.go).

// codeRequest finds the request of a code presented at the token endpoint
// with ex. The code is claimed later, in the same commit as the tokens
// minted from it (claimCode), so the exchange commits once; until then it
// is only looked at. A code already claimed is a replay: everything minted
// from it is revoked (RFC 6749 §4.1.2).
func (p *Provider) codeRequest(ctx context.Context, code string, ex exchange) (*authRequest, error) {
	id, sc, sealed := p.openCode(code)
	if timePrefix(id) == "" {
		// Not a code this provider made (it does not decrypt), or one of
		// a request from before ids carried their time, long expired:
		// none is read.
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown or expired code")
	}
	key := p.codeKey(id, code)
	if sealed {
		return p.sealedCodeRequest(ctx, key, sc, ex)
	}
	c, r, facts, err := p.peekCode(ctx, key)
	if err != nil {
		return nil, p.codeRefused(ctx, c, err)
	}
	if !r.Done || r.MemberID == "" {
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization request is not complete")
	}
	revoked, changed, err := p.codeChecks(ctx, c, r, facts)
	switch {
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	case revoked:
		return nil, oidc.ErrInvalidGrant().WithDescription("the session this code was issued in has ended")
	case changed:
		return nil, oidc.ErrInvalidGrant().WithDescription("the member's credentials changed after this login")
	}
	a, err := p.wrapAuthRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	a.codeKey = key
	return p.exchanged(ctx, a, ex)
}

// sealedCodeRequest is codeRequest for a code that carries its request:
// nothing is read. The claim decides whether the code is live, and makes
// the fresh checks codeRequest makes before it (codeChecks) in its own
// commit (claimCode).
func (p *Provider) sealedCodeRequest(ctx context.Context, key string, sc sealedCode, ex exchange) (*authRequest, error) {
	r := sc.r
	switch {
	case !p.now().Before(sc.c.ExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown or expired code")
	case !r.Done || r.MemberID == "":
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization request is not complete")
	}
	a, err := p.wrapAuthRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	a.codeKey = key
	check := stampCheck(r)
	check.Token = storage.CodeToken(sc.c, r)
	a.check = &check
	return p.exchanged(ctx, a, ex)
}

// exchanged returns a, the request of a code presented with ex, after
// spending the code when ex does not match it. It reads the member for
// the ID token first (as a rule from the member cache): the claim spends
// the code, so nothing is read after it, and a database that does not
// answer now has decided nothing. A member gone is the checks' to find.
func (p *Provider) exchanged(ctx context.Context, a *authRequest, ex exchange) (*authRequest, error) {
	switch m, err := p.store.MemberByID(ctx, a.r.MemberID); {
	case err == nil:
		a.member = &m
	case !errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if !checkExchange(ex, a) {
		// Whoever presents a code with the wrong client, redirect URI or
		// verifier gets no second try, and neither does anyone else: the
		// code is used up now. op's own checks then refuse the exchange
		// with their precise error; tokens are refused in any case.
		if _, err := p.claim(ctx, a); err != nil {
			return nil, err
		}
		a.refused = true
	}
	return a, nil
}

// codeRevoked reports whether a revocation made since the code was issued
// covers the tokens it would mint: a logout or "sign out" that ended its
// session (or every session of the member, or the client) while the code
// was on its way to the relying party. Without this, a code issued just
// before a logout would mint tokens of the ended session just after it.
// It reads the database itself (p.fresh): a logout made on another replica
// a moment ago must stop the code even here.
func (p *Provider) codeRevoked(ctx context.Context, c storage.AuthCode, r storage.AuthRequest) (bool, error) {
	return p.fresh.TokenRevokedFresh(ctx, storage.CodeToken(c, r))
}

// credentialsChanged reports whether the member's credentials changed
// (password, passkeys, contacts, "this wasn't me": a new SecurityStamp)
// after the login the request was answered with. The change revokes every
// token in the commit that makes it, but a login that was checked just
// before that commit may still complete and hand out a code just after
// it; the code must mint nothing then. The stamp is read from the
// database itself (p.fresh), as codeRevoked's revocations are.
func (p *Provider) credentialsChanged(ctx context.Context, r storage.AuthRequest) (bool, error) {
	if r.MemberStamp == "" {
		return false, nil // answered before stamps were recorded
	}
	m, err := p.fresh.MemberByIDFresh(ctx, r.MemberID)
	return stampCheck(r).StampChanged(m, err)
}

// checkExchange reports whether an exchange presents the code with what
// op's checks (ValidateAccessTokenRequest, AuthorizeCodeChallenge) will
// accept: the request's client and redirect URI, and the PKCE verifier;
// and a proof by the DPoP key the code is bound to, if any.
func checkExchange(ex exchange, a *authRequest) bool {
	return ex.clientID == a.r.ClientID && ex.redirectURI == a.r.RedirectURI &&
		op.AuthorizeCodeChallenge(ex.verifier, a.GetCodeChallenge()) == nil &&
		(a.r.DPoPJKT == "" || ex.jkt == a.r.DPoPJKT) // RFC 9449 §10
}

// claimCode claims the code a request was found by, creating ts in the same
// commit: a code is used once, and its tokens exist only if its claim won.
// A lost claim is a replay, answered as AuthRequestByCode answers one.
func (p *Provider) claimCode(ctx context.Context, a *authRequest, ts ...storage.Token) error {
	if a.refused {
		return oidc.ErrInvalidGrant().WithDescription("the code was presented with the wrong client, redirect URI, code_verifier or DPoP key")
	}
	v, err := p.claim(ctx, a, ts...)
	switch {
	case err != nil:
		return err
	case v.Revoked:
		return oidc.ErrInvalidGrant().WithDescription("the session this code was issued in has ended")
	case v.CredentialsChanged:
		return oidc.ErrInvalidGrant().WithDescription("the member's credentials changed after this login")
	}
	return nil
}

// claim claims a's code with ts, as the code was found: with the fresh
// checks in the claim when nothing was read (a.check), and says what they
// found; the tokens were stored only if the verdict is Minted.
func (p *Provider) claim(ctx context.Context, a *authRequest, ts ...storage.Token) (storage.ClaimVerdict, error) {
	var (
		c   storage.AuthCode
		v   storage.ClaimVerdict
		err error
	)
	if a.check != nil {
		c, v, err = p.store.ClaimAuthCodeFresh(ctx, a.codeKey, p.now(), *a.check, ts...)
	} else {
		c, _, err = p.store.ClaimAuthCode(ctx, a.codeKey, p.now(), ts...)
	}
	if err != nil {
		return v, p.codeRefused(ctx, c, err)
	}
	a.codeKey = ""
	return v, nil
}

// codeRefused is the answer to a code its read or its claim did not find
// live (err): a replay revokes what the code minted (c names its
// request); an error that is neither a replay nor an unknown or expired
// code may be a database that did not answer, which decided nothing.
func (p *Provider) codeRefused(ctx context.Context, c storage.AuthCode, err error) error {
	switch {
	case errors.Is(err, storage.ErrConsumed):
		p.revokeReplayedCode(ctx, c)
		return oidc.ErrInvalidGrant().WithDescription("the code has already been used").WithParent(err)
	case errors.Is(err, storage.ErrNotFound):
		return oidc.ErrInvalidGrant().WithDescription("unknown or expired code").WithParent(err)
	}
	return oidc.ErrServerError().WithParent(err)
}

func (p *Provider) revokeReplayedCode(ctx context.Context, c storage.AuthCode) {
	n, err := p.store.DeleteTokens(ctx, storage.TokenFilter{AuthRequestID: c.AuthRequestID})
	p.log.WarnContext(ctx, "authorization code replayed; tokens revoked", "auth_request_id", c.AuthRequestID, "revoked", n, "err", err)
}
