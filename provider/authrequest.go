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

func (s *opStorage) DeleteAuthRequest(ctx context.Context, id string) error {
	if deletedWithCode(ctx, id) {
		return nil // token.go: gone with its code's claim
	}
	if err := s.p.store.DeleteAuthRequest(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("provider: delete auth request: %w", err)
	}
	return nil
}
