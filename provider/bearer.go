package provider

import (
	"context"
	"errors"
	"slices"
	"strings"

	"tsubasa/storage"
)

// ErrInvalidToken: the bearer token is malformed, unknown, expired or
// revoked. AccessToken returns the store's error instead when the store
// did not answer (storage.Unavailable).
var ErrInvalidToken = errors.New("provider: invalid access token")

// ErrInsufficientScope: the token is valid but lacks the scope asked for.
var ErrInsufficientScope = errors.New("provider: insufficient scope")

// AccessToken checks a bearer access token and returns its record. scope,
// when set, must have been granted. Service APIs, which must not accept a
// member's token, use ServiceToken.
func (p *Provider) AccessToken(ctx context.Context, bearer, scope string) (storage.Token, error) {
	plain, err := p.op.Crypto().Decrypt(bearer)
	if err != nil {
		return storage.Token{}, ErrInvalidToken
	}
	id, subject, ok := strings.Cut(plain, ":")
	if !ok {
		return storage.Token{}, ErrInvalidToken
	}
	t, err := p.accessTokenByID(ctx, id, subject)
	if err != nil && storage.Unavailable(err) && !errors.Is(err, errTokenInvalid) {
		// Storage did not answer: nothing was decided about the token,
		// and the caller answers "try again", never "invalid".
		return storage.Token{}, err
	}
	if err != nil {
		return storage.Token{}, ErrInvalidToken
	}
	if scope != "" && !slices.Contains(t.Scopes, scope) {
		return t, ErrInsufficientScope
	}
	return t, nil
}
