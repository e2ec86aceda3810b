package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// grant is what every request Tsubasa mints tokens for tells the token and
// claims code about itself: the record its tokens start from (client,
// member, session, auth time, acr, amr, family, authorization request).
// A new grant's request type implements it, and the code that mints and
// fills claims asks the request instead of switching on its type: a
// request that does not implement it is refused with a server error
// rather than minted with claims missing.
type grant interface {
	op.TokenRequest
	record() storage.Token
}

var (
	_ grant = (*authRequest)(nil)
	_ grant = (*refreshRequest)(nil)
	_ grant = (*clientCredentialsRequest)(nil)
)

func (a *authRequest) record() storage.Token {
	return storage.Token{ClientID: a.r.ClientID, MemberID: a.r.MemberID, AuthTime: a.r.AuthTime, ACR: a.r.ACR,
		AMR: a.r.AMR, SessionID: a.r.SessionID, AuthRequestID: a.r.ID, IDTokenClaims: a.r.IDTokenClaims}
}

func (r *refreshRequest) record() storage.Token {
	return storage.Token{ClientID: r.t.ClientID, MemberID: r.t.MemberID, AuthTime: r.t.AuthTime, ACR: r.t.ACR,
		AMR: r.t.AMR, SessionID: r.t.SessionID, FamilyID: r.t.FamilyID, AuthRequestID: r.t.AuthRequestID,
		IDTokenClaims: r.t.IDTokenClaims}
}

func (r *clientCredentialsRequest) record() storage.Token { return storage.Token{ClientID: r.clientID} }

// errNotAGrant: op handed the token code a request type Tsubasa does not mint for.
var errNotAGrant = errors.New("provider: a token request of an unknown kind")

// refreshRequest adapts a stored refresh token to op.RefreshTokenRequest.
type refreshRequest struct {
	t      storage.Token
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.t.Subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// clientCredentialsRequest is a token request of a client acting for itself.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }
func (r *clientCredentialsRequest) GetScopes() []string   { return r.scopes }

// accessToken builds the access token record for a request, bound to the
// DPoP key of the token request (dpoptoken.go), if any.
func (p *Provider) accessToken(ctx context.Context, req op.TokenRequest, now time.Time) (storage.Token, error) {
	g, ok := req.(grant)
	if !ok {
		return storage.Token{}, oidc.ErrServerError().WithParent(fmt.Errorf("%w: %T", errNotAGrant, req))
	}
	t := g.record()
	t.ID, t.Kind = newID(16), storage.AccessToken
	t.Subject, t.Audience, t.Scopes = req.GetSubject(), req.GetAudience(), req.GetScopes()
	t.CreatedAt, t.ExpiresAt = now, now.Add(p.opts.AccessTokenTTL)
	t.JKT = bindingOf(ctx).jkt
	return t, nil
}

// CreateAccessToken mints a self-contained access token (accesstoken.go):
// nothing is written.
func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	p := s.p
	t, err := p.accessToken(ctx, req, p.now().UTC())
	if err != nil {
		return "", time.Time{}, err
	}
	id, err := encodeAccessToken(t)
	if err != nil {
		return "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	if a, ok := req.(*authRequest); ok && (a.codeKey != "" || a.refused) {
		if err := p.claimCode(ctx, a); err != nil {
			return "", time.Time{}, err
		}
	}
	return id, t.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens mints a pair. With currentRefreshToken set it
// rotates: the presented token is consumed atomically and a second use of it
// revokes its whole family.
func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	p := s.p
	now := p.now().UTC()
	access, err := p.accessToken(ctx, req, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	bind := bindingOf(ctx)
	if currentRefreshToken != "" && !bind.rotate {
		// Not rotated (fapi2: fapi.go): the token stays, and TokenRequestByRefreshToken
		// has checked it is live. Its access tokens belong to its family.
		accessID, err := encodeAccessToken(access)
		if err != nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
		}
		return accessID, currentRefreshToken, access.ExpiresAt, nil
	}
	refresh := access
	refresh.Kind = storage.RefreshToken
	refresh.ExpiresAt = now.Add(p.opts.RefreshTokenTTL)
	if !bind.bindRefresh {
		refresh.JKT = ""
	}
	if currentRefreshToken == "" {
		refresh.FamilyID = timeID(now, 16)
		access.FamilyID = refresh.FamilyID
	}
	value, err := p.sealRefresh(refresh, now) // refreshseal.go
	if err != nil {
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	refresh.ID = p.refreshTokenID(value)
	accessID, err := encodeAccessToken(access)
	if err != nil {
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	// Only the refresh token is stored; the access token is self-contained.
	if currentRefreshToken == "" {
		if a, ok := req.(*authRequest); ok && (a.codeKey != "" || a.refused) {
			if err := p.claimCode(ctx, a, refresh); err != nil {
				return "", "", time.Time{}, err
			}
		} else if err := p.store.CreateTokens(ctx, refresh); err != nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
		}
		return accessID, value, access.ExpiresAt, nil
	}
	old, err := p.store.RotateRefreshToken(ctx, p.refreshTokenID(currentRefreshToken), now, refresh)
	switch {
	case errors.Is(err, storage.ErrConsumed):
		p.revokeFamily(ctx, old)
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the refresh token has already been used").WithParent(err)
	case storage.Unavailable(err):
		// The database went away between the token's read and its
		// rotation: nothing was decided, so not invalid_grant (which
		// makes the relying party drop a live token) but 503.
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	case err != nil:
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("unknown or expired refresh token").WithParent(err)
	}
	return accessID, value, access.ExpiresAt, nil
}

// Refresh token values carry their issue time: refreshPrefix, 16 hex
// digits of Unix nanoseconds, then the rest: the sealed grant for values
// issued now (refreshseal.go), 32 random bytes in base64url for those
// issued before, which are read from their rows until they expire. The
// storage key is that time followed by the HMAC of the whole value, so
// refresh tokens issued together sit together in the B-tree (primary key,
// client index) and a commit of many rotations dirties a few pages rather
// than one page per token. The time is no secret (the expiry the client is
// given says as much). Values from before, "rt_" and random bytes, are
// keyed by the HMAC alone.
const refreshPrefix = "rt1_"

// refreshTokenID is the storage key of a refresh token value.
func (p *Provider) refreshTokenID(value string) string {
	h := p.tokenHash("refresh", value)
	if rest, ok := strings.CutPrefix(value, refreshPrefix); ok && timePrefix(rest) != "" {
		return rest[:16] + "." + h
	}
	return h
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (p *Provider) revokeFamily(ctx context.Context, t storage.Token) {
	if t.FamilyID == "" {
		return
	}
	n, err := p.store.DeleteTokens(ctx, storage.TokenFilter{FamilyID: t.FamilyID})
	p.log.WarnContext(ctx, "refresh token reused; family revoked", "client_id", t.ClientID, "family_id", t.FamilyID, "revoked", n, "err", err)
}

// TokenRequestByRefreshToken finds the grant behind a refresh token: in the
// value itself when it is sealed and will be rotated (refreshseal.go), in
// its row otherwise. A token that was already rotated is a replay: its
// family is revoked (here when the row says so, or when the rotation
// finds it consumed).
func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, value string) (op.RefreshTokenRequest, error) {
	p := s.p
	t, sealed, err := p.openRefresh(value)
	switch {
	case sealed && err != nil:
		// Not a value this server sealed (or sealed under another key,
		// whose rows are unreachable anyway): unknown, without a read.
		return nil, fmt.Errorf("provider: refresh token does not open: %v: %w", err, storage.ErrNotFound)
	case sealed && bindingOf(ctx).rotate:
		// The rotation decides whether it is live (refreshseal.go).
	default:
		t, err = p.store.TokenByID(ctx, p.refreshTokenID(value))
	}
	switch {
	case err == nil && t.Kind != storage.RefreshToken, errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("provider: refresh token: %w", storage.ErrNotFound)
	case err != nil:
		// Not "unknown": a relying party told invalid_grant drops the
		// token, and a database that did not answer decided nothing.
		return nil, fmt.Errorf("provider: refresh token: %w", err)
	}
	if t.Consumed {
		p.revokeFamily(ctx, t)
		return nil, fmt.Errorf("provider: refresh token: %w", storage.ErrConsumed)
	}
	if t.Expired(p.now()) {
		return nil, fmt.Errorf("provider: refresh token expired: %w", storage.ErrNotFound)
	}
	if t.MemberID != "" {
		m, err := p.store.MemberByID(ctx, t.MemberID)
		switch {
		case errors.Is(err, storage.ErrNotFound), err == nil && m.Status == storage.MemberDisabled:
			return nil, fmt.Errorf("provider: member is not active: %w", storage.ErrNotFound)
		case err != nil:
			return nil, fmt.Errorf("provider: refresh token's member: %w", err)
		}
	}
	return &refreshRequest{t: t, scopes: slices.Clone(t.Scopes)}, nil
}

// RevokeToken implements RFC 7009. A refresh token takes its family (and the
// access tokens minted with it) along.
//
// Another client's token is answered as an unknown one: 200, nothing
// revoked. RFC 7009 §2.1 has the server check that the token was issued to
// the caller, and §2.2 allows 200 or unauthorized_client for a token the
// caller may not revoke; an error would tell the caller that the string it
// holds is a live token of another client (and it is not the caller's
// authentication that failed, so invalid_client would be wrong), while 200
// tells it nothing it did not know.
func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	p := s.p
	if strings.HasPrefix(tokenOrID, accessPrefix) {
		t, err := p.accessTokenByID(ctx, tokenOrID, userID)
		if errors.Is(err, errTokenInvalid) {
			return nil // RFC 7009 §2.2: an invalid token is not an error
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		if t.ClientID != clientID {
			p.log.InfoContext(ctx, "revocation of another client's token ignored", "client_id", clientID, "token_client_id", t.ClientID)
			return nil
		}
		if _, err := p.store.DeleteTokens(ctx, storage.TokenFilter{ID: t.ID}); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	t, err := p.store.TokenByID(ctx, tokenOrID)
	if errors.Is(err, storage.ErrNotFound) {
		t, err = p.store.TokenByID(ctx, p.refreshTokenID(tokenOrID))
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil // RFC 7009 §2.2: an invalid token is not an error
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		p.log.InfoContext(ctx, "revocation of another client's token ignored", "client_id", clientID, "token_client_id", t.ClientID)
		return nil
	}
	if t.Kind == storage.RefreshToken && t.FamilyID != "" {
		_, err = p.store.DeleteTokens(ctx, storage.TokenFilter{FamilyID: t.FamilyID})
	} else {
		err = p.store.DeleteToken(ctx, t.ID)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// GetRefreshTokenInfo is how op's revocation finds a refresh token. Whose
// token it is, RevokeToken decides: op answers any error here but
// op.ErrInvalidRefreshToken with a server error.
func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, _, value string) (string, string, error) {
	p := s.p
	id := p.refreshTokenID(value)
	t, err := p.store.TokenByID(ctx, id)
	if err != nil || t.Kind != storage.RefreshToken {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.Subject, id, nil
}

// TerminateSession is op's end-session hook, which op calls only from its
// own /end_session: Tsubasa serves that path itself (endsession.go), asking
// the member first when it must. Reached anyway, it ends nothing.
func (s *opStorage) TerminateSession(context.Context, string, string) error {
	return oidc.ErrServerError().WithDescription("end_session is served by the provider, not op")
}

func (s *opStorage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	p := s.p
	c, err := p.clients.get(ctx, clientID)
	if err != nil {
		p.checkSecret(storage.Client{}, secret)
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if !p.checkSecret(c, secret) {
		return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	// Whether the client holds the grant, op checks next (GrantTypes, from
	// the same record): it answers unauthorized_client (RFC 6749 §5.2),
	// where an error from here would reach the client as invalid_client,
	// 401, as if its secret were wrong.
	return p.opClient(c), nil
}

func (s *opStorage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := s.p.clients.get(ctx, clientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	granted := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			if !isScopeToken(sc) {
				// Not echoed: error_description allows no quote or backslash (RFC 6749 §5.2).
				return nil, oidc.ErrInvalidScope().WithDescription("a requested scope is not a scope token (RFC 6749 section 3.3)")
			}
			return nil, oidc.ErrInvalidScope().WithDescription("scope %s is not allowed for this client", sc)
		}
		granted = append(granted, sc)
	}
	return &clientCredentialsRequest{clientID: clientID, scopes: granted}, nil
}

// isScopeToken reports whether s is a scope token of RFC 6749 §3.3:
// %x21 / %x23-5B / %x5D-7E, which an error description may quote.
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}
