package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// authRequest adapts storage.AuthRequest to op.AuthRequest. subject is the
// sub this client sees (pairwise for third-party clients).
type authRequest struct {
	r       storage.AuthRequest
	subject string
	// codeKey is the key of the code this request was found by at the token
	// endpoint, until it is claimed: with the tokens it mints, in their
	// commit (see claimCode).
	codeKey string
	// refused: the exchange presented the code with something it does not
	// match, and the code was used up (see checkExchange).
	refused bool
	// check is set when the request came from the code itself
	// (codeseal.go): nothing was read, and the claim makes the fresh
	// checks (storage.AuthRequests.ClaimAuthCodeFresh).
	check *storage.CodeCheck
	// member is the member as read before the code's claim, for the ID
	// token (SetUserinfoFromRequest): a code exchange reads nothing after
	// its claim, which spends the code (exchanged).
	member *storage.Member
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                      { return a.r.ID }
func (a *authRequest) GetACR() string                     { return a.r.ACR }
func (a *authRequest) GetAMR() []string                   { return a.r.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.r.AuthTime }
func (a *authRequest) GetClientID() string                { return a.r.ClientID }
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.r.Done && a.r.MemberID != "" }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.r.ResponseMode) }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}

// newID returns a random URL-safe identifier of n bytes of entropy.
func newID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// timeID is a new id that starts with its issue time: 16 hex digits of
// Unix nanoseconds, then n random bytes in base64url. Records keyed by
// such ids (authorization requests, and through their ids the codes and
// the token index entries that name them) are written in key order, so
// the writes of one commit share a few B-tree pages instead of dirtying
// one random page each. The time is no secret; the random part is the id's
// strength.
func timeID(now time.Time, n int) string {
	return fmt.Sprintf("%016x%s", uint64(now.UnixNano()), newID(n))
}

// timePrefix returns the issue-time prefix of an id made by timeID or of a
// refresh token value's rest, or "".
func timePrefix(id string) string {
	if len(id) > 16 && isLowerHex(id[:16]) {
		return id[:16]
	}
	return ""
}

// codeKey is the storage key of authorization code for request id: the
// request's time prefix, then the code's HMAC (the HMAC alone for requests
// with older ids).
func (p *Provider) codeKey(id, code string) string {
	h := p.tokenHash("code", code)
	if t := timePrefix(id); t != "" {
		return t + "." + h
	}
	return h
}

// CreateAuthRequest applies Tsubasa's rules on top of op's validation and
// stores the request. Errors are typed OAuth errors; the ones that must not
// be redirected (redirect URI problems) have redirects disabled.
func (s *opStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	p := s.p
	c, err := p.clients.get(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client").WithParent(err)
	}
	// op un-escapes before matching; Tsubasa wants the registered string
	// (redirects.go).
	if !redirectRegistered(c, req.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	if !supportedResponseType(req.ResponseType) {
		// authorizer refused it already; this holds wherever the request came from.
		return nil, (&oidc.Error{ErrorType: "unsupported_response_type"}).WithDescription("only response_type=code is supported")
	}
	if req.RequestParam != "" {
		// authorizer refused it already, or resolved it into the request.
		return nil, oidc.ErrRequestNotSupported().WithDescription("the request object was not verified")
	}
	if err := p.requestRules(c, req); err != nil {
		return nil, err
	}
	scopes := make([]string, 0, len(req.Scopes)+1)
	for _, sc := range req.Scopes {
		// Service scopes (telephone) never go to a member's token, even
		// for a client stored with one before validation refused it.
		if (sc == oidc.ScopeOpenID || slices.Contains(c.Scopes, sc)) && memberScope(sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	// First-party clients with the refresh grant always get a refresh token.
	if !c.ThirdParty && slices.Contains(c.GrantTypes, GrantRefreshToken) && !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	now := p.now().UTC()
	r := storage.AuthRequest{
		ID:                  timeID(now, 18),
		ClientID:            c.ID,
		RedirectURI:         req.RedirectURI,
		State:               req.State,
		Nonce:               req.Nonce,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		Scopes:              scopes,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              req.Prompt,
		LoginHint:           req.LoginHint,
		ACRValues:           req.ACRValues,
		HintSubject:         hintSubject,
		CreatedAt:           now,
		ExpiresAt:           now.Add(p.opts.AuthRequestTTL),
	}
	if req.MaxAge != nil {
		v := int64(*req.MaxAge)
		r.MaxAge = &v
	}
	for _, t := range req.UILocales {
		r.UILocales = append(r.UILocales, t.String())
	}
	applyExtras(ctx, &r) // dpop_jkt, claims: requestextras.go
	if err := p.store.CreateAuthRequest(ctx, r); err != nil {
		return nil, storageFailed(err)
	}
	// The login UI checks it within this same HTTP request when the
	// browser has an SSO session (its SSO wrapper): no read back.
	storage.HandOffAuthRequest(ctx, r)
	return &authRequest{r: r}, nil
}

// requestRules are Tsubasa's rules for an authorization request beyond
// op's: PKCE with S256 only (required for public clients), and the openid
// scope. The pushed authorization request endpoint applies them too.
func (p *Provider) requestRules(c storage.Client, req *oidc.AuthRequest) *oidc.Error {
	switch req.CodeChallengeMethod {
	case oidc.CodeChallengeMethodS256:
		if req.CodeChallenge == "" {
			return oidc.ErrInvalidRequest().WithDescription("code_challenge is required with code_challenge_method")
		}
	case "":
		if req.CodeChallenge != "" {
			// RFC 7636 defaults to plain when the method is absent; plain is refused.
			return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
		}
		if c.Public || isFAPI2(c) {
			return oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required for public clients and FAPI 2.0 clients")
		}
	default:
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	return nil
}

func (s *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.p.authRequestByID(ctx, id)
	if storage.Unavailable(err) {
		return nil, temporarilyUnavailable().WithParent(err)
	}
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request").WithParent(err)
	}
	if r.Expired(s.p.now()) {
		return nil, oidc.ErrInvalidRequest().WithDescription("the authorization request has expired")
	}
	return s.p.wrapAuthRequest(ctx, r)
}

func (p *Provider) wrapAuthRequest(ctx context.Context, r storage.AuthRequest) (*authRequest, error) {
	a := &authRequest{r: r}
	if r.MemberID != "" {
		c, err := p.clients.get(ctx, r.ClientID)
		if err != nil {
			return nil, oidc.ErrInvalidClient().WithParent(err)
		}
		a.subject = p.subjectFor(c, r.MemberID)
	}
	return a, nil
}

// AuthRequestByCode is op's way to a code's request, from op's own token
// endpoint, which Tsubasa serves itself (token.go): reached anyway, it
// finds nothing.
func (s *opStorage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, oidc.ErrServerError().WithDescription("the token endpoint is served by the provider, not op")
}

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
	switch {
	case errors.Is(err, storage.ErrConsumed):
		p.revokeReplayedCode(ctx, c)
		return nil, oidc.ErrInvalidGrant().WithDescription("the code has already been used").WithParent(err)
	case errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown or expired code").WithParent(err)
	case err != nil:
		// The code may be good: a database that did not answer decided nothing.
		return nil, oidc.ErrServerError().WithParent(err)
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
	switch {
	case errors.Is(err, storage.ErrConsumed):
		p.revokeReplayedCode(ctx, c)
		return v, oidc.ErrInvalidGrant().WithDescription("the code has already been used").WithParent(err)
	case errors.Is(err, storage.ErrNotFound):
		return v, oidc.ErrInvalidGrant().WithDescription("unknown or expired code").WithParent(err)
	case err != nil:
		return v, oidc.ErrServerError().WithParent(err)
	}
	a.codeKey = ""
	return v, nil
}

func (p *Provider) revokeReplayedCode(ctx context.Context, c storage.AuthCode) {
	n, err := p.store.DeleteTokens(ctx, storage.TokenFilter{AuthRequestID: c.AuthRequestID})
	p.log.WarnContext(ctx, "authorization code replayed; tokens revoked", "auth_request_id", c.AuthRequestID, "revoked", n, "err", err)
}

func (s *opStorage) DeleteAuthRequest(ctx context.Context, id string) error {
	if deletedWithCode(ctx, id) {
		return nil // token.go: gone with its code's claim
	}
	if err := s.p.store.DeleteAuthRequest(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("provider: delete auth request: %w", err)
	}
	return nil
}
