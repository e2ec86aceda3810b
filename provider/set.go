package provider

import (
	"context"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"tsubasa/storage"
)

// Security Event Tokens (RFC 8417) for the Shared Signals streams
// (provider/ssf): this package holds the signing keys and knows which
// subject each client sees, so it signs the SETs and names their
// subjects; provider/ssf decides what they say.

// setType is the typ RFC 8417 §2.3 registers, so that a SET is never taken
// for an ID token or an access token, nor the reverse.
const setType = "secevent+jwt"

// ErrSETClientGone wraps a SET whose stream's client no longer exists:
// nobody can be named to it, and retrying cannot change that.
var ErrSETClientGone = errors.New("provider: the stream's client is gone")

// SETSubject returns the subject client clientID sees for memberID: the
// member's id for a first-party client, the pairwise subject for a third
// party (the same its ID tokens carry).
func (p *Provider) SETSubject(ctx context.Context, clientID, memberID string) (string, error) {
	c, err := p.clients.get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", fmt.Errorf("%w: %q", ErrSETClientGone, clientID)
	}
	if err != nil {
		return "", err
	}
	return p.subjectFor(c, memberID), nil
}

// SignSET signs claims (the SET's JSON) with the current key of the
// server's default algorithm, typ secevent+jwt, its kid the key's id in
// the JWKS.
func (p *Provider) SignSET(claims []byte) (string, error) {
	return p.signTyped(p.opts.DefaultAlg, setType, claims)
}

// signTyped signs claims, a JWT's JSON, with the current key of alg, in
// a compact JWS whose header names typ and the key's kid: the one way
// the provider signs the tokens it makes itself (logout tokens, SETs),
// op signing ID and access tokens.
func (p *Provider) signTyped(alg, typ string, claims []byte) (string, error) {
	key, err := p.keys.signing(alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: key.signer},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), key.id))
	if err != nil {
		return "", fmt.Errorf("provider: %s signer: %w", typ, err)
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("provider: signing a %s: %w", typ, err)
	}
	return jws.CompactSerialize()
}

// JWKSURI is where the keys that verify SETs (and ID tokens) are
// published: the discovery document's jwks_uri.
func (p *Provider) JWKSURI() string { return p.op.KeysEndpoint().Absolute(p.opts.Issuer) }
