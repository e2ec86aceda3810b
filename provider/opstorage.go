package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// opStorage implements op.Storage (and the optional interfaces Tsubasa
// uses) on top of the Provider. Storage errors never reach op raw: they are
// mapped to typed OAuth errors with the cause as parent.
type opStorage struct{ p *Provider }

var (
	_ op.Storage                   = (*opStorage)(nil)
	_ op.ClientCredentialsStorage  = (*opStorage)(nil)
	_ op.CanSetUserinfoFromRequest = (*opStorage)(nil)
)

func (p *Provider) opClient(c storage.Client) *client {
	return &client{c: c, loginURL: p.opts.LoginURL, idTTL: p.opts.IDTokenTTL, dev: p.opts.Dev}
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.p.clients.get(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client").WithParent(err)
	}
	return s.p.opClient(c), nil
}

func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.p.clients.get(ctx, id)
	if err != nil {
		s.p.checkSecret(storage.Client{}, secret)
		return oidc.ErrInvalidClient().WithDescription("client authentication failed").WithParent(err)
	}
	if !s.p.checkSecret(c, secret) {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return nil
}

// subjectFor is the sub a client sees: the member id for first-party
// clients, a pairwise identifier per sector (redirect host) for third parties
// (OpenID Connect Core 1.0 §8.1), so partners cannot correlate members.
func (p *Provider) subjectFor(c storage.Client, memberID string) string {
	if !c.ThirdParty {
		return memberID
	}
	m := hmac.New(sha256.New, p.opts.HMACKey)
	m.Write([]byte("pairwise\x00"))
	m.Write([]byte(sectorOf(c)))
	m.Write([]byte{0})
	m.Write([]byte(memberID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

func sectorOf(c storage.Client) string {
	for _, raw := range c.RedirectURIs {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return u.Hostname()
		}
	}
	return "client:" + c.ID
}

// SetUserinfoFromScopes is op's ID token hook; the work happens in
// SetUserinfoFromRequest, which also sees the request.
func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims for its scopes and adds
// sid (and acr, for ID tokens from a refresh, which op leaves out).
//
// An ID token is only ever minted for a member's grant: a request that is
// not a grant (tokens.go) or names no member is refused, not signed with
// its member claims missing.
func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	g, ok := req.(grant)
	if !ok {
		return oidc.ErrServerError().WithParent(fmt.Errorf("%w: %T", errNotAGrant, req))
	}
	t := g.record()
	if t.MemberID == "" {
		return oidc.ErrServerError().WithParent(errors.New("provider: an ID token for a grant without a member"))
	}
	var (
		m   storage.Member
		err error
	)
	if a, ok := req.(*authRequest); ok && a.member != nil && a.member.ID == t.MemberID {
		m = *a.member // read before the code's claim (sealedCodeRequest)
	} else if m, err = s.p.store.MemberByID(ctx, t.MemberID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	setClaims(info, m, scopes)
	requestedIDTokenClaims(info, m, req.GetScopes(), t.IDTokenClaims) // the claims parameter
	info.Subject = req.GetSubject()
	if t.SessionID != "" {
		info.AppendClaims("sid", t.SessionID)
	}
	// op writes acr for an op.AuthRequest only (CreateIDToken); every
	// other grant's comes from here.
	if _, fromOp := req.(op.AuthRequest); !fromOp && t.ACR != "" {
		info.AppendClaims("acr", t.ACR)
	}
	return nil
}

func errInvalidToken(desc string) *oidc.Error {
	return &oidc.Error{ErrorType: "invalid_token", Description: desc}
}

// SetUserinfoFromToken is op's userinfo hook; Tsubasa serves /userinfo
// itself (userinfo.go) with the same function.
func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	got, err := s.p.userinfoByID(ctx, tokenID, subject)
	switch {
	case errors.Is(err, ErrInsufficientScope):
		return &oidc.Error{ErrorType: "insufficient_scope", Description: "the access token was not issued with the openid scope"}
	case errors.Is(err, errTokenInvalid):
		return errInvalidToken("the access token is invalid, expired or revoked")
	case err != nil:
		return oidc.ErrServerError().WithParent(err)
	}
	*info = *got
	return nil
}

// SetIntrospectionFromToken answers RFC 7662 introspection. Only the client
// the token was issued to (or an audience of it) learns that it is active.
// Nothing is written into resp before every check passed: op sends resp as
// it is when this returns an error.
func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	p := s.p
	var (
		t   storage.Token
		err error
	)
	if strings.HasPrefix(tokenID, accessPrefix) {
		t, err = p.accessTokenByID(ctx, tokenID, subject)
	} else {
		t, err = p.store.TokenByID(ctx, tokenID)
	}
	if storage.Unavailable(err) {
		return fmt.Errorf("provider: introspection: %w", err)
	}
	if err != nil || t.Expired(p.now()) || t.Consumed || t.Subject != subject {
		return errors.New("inactive")
	}
	if t.ClientID != clientID && !slices.Contains(t.Audience, clientID) {
		return errors.New("not the token's client")
	}
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	if t.Kind == storage.RefreshToken {
		resp.TokenType = "refresh_token"
	}
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	if !t.AuthTime.IsZero() {
		resp.AuthTime = oidc.FromTime(t.AuthTime)
	}
	resp.Subject = t.Subject
	resp.Audience = t.Audience
	resp.AuthenticationMethodsReferences = t.AMR
	resp.Issuer = p.opts.Issuer
	if t.Kind == storage.AccessToken {
		resp.JWTID = t.ID
	}
	resp.Claims = map[string]any{}
	if t.ACR != "" {
		// RFC 9470 §3: acr and auth_time, so that a resource server can
		// ask for a stronger or fresher login (insufficient_user_authentication).
		resp.Claims["acr"] = t.ACR
	}
	if t.JKT != "" {
		// RFC 9449 §6.2: the key the token is bound to.
		if t.Kind == storage.AccessToken {
			resp.TokenType = tokenTypeDPoP
		}
		resp.Claims["cnf"] = map[string]string{"jkt": t.JKT}
	}
	return nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("private_key_jwt client authentication is not supported")
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("the JWT profile grant is not supported")
}

func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.signing(s.p.algFor(ctx))
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) { return s.p.keys.keySet(), nil }

func (s *opStorage) Health(ctx context.Context) error {
	if _, err := s.p.store.ClientByID(ctx, "\x00health"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// clientKey carries the authenticated client's id from the token endpoint
// (token.go) into SigningKey, which op calls without the client.
type clientKey struct{}

// exchange is what a code exchange presents besides the code (see
// checkExchange).
type exchange struct {
	clientID, redirectURI, verifier string
	jkt                             string // the DPoP proof's key, if any
}

func (p *Provider) algFor(ctx context.Context) string {
	if id, ok := ctx.Value(clientKey{}).(string); ok {
		if c, err := p.clients.get(ctx, id); err == nil && c.IDTokenAlg != "" {
			return c.IDTokenAlg
		}
	}
	return p.opts.DefaultAlg
}
