package provider

import (
	"context"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// The FAPI 2.0 Security Profile as a per-client switch (storage.Client
// Profile "fapi2"). Config validation and `client add` refuse a fapi2
// client that is public, authenticates by anything but private_key_jwt,
// or signs its ID tokens with RS256; at run time the profile adds, to
// whatever the client registered:
//
//   - pushed authorization requests only (authorize.go, requiresPAR);
//   - PKCE with S256 on every request (requestRules);
//   - a DPoP proof on every token request, so that every access token is
//     bound to the client's key (requiresDPoP, dpoptoken.go);
//   - ES256 or PS256 only, for its client assertions, request objects
//     and DPoP proofs (fapi2Algs);
//   - codes that live at most 60 s, whatever tokens.code_ttl says
//     (codeTTL);
//   - refresh tokens that are not rotated (FAPI 2.0 §5.3.2.1: rotation
//     only in extraordinary circumstances): its refresh tokens are bound
//     to its private_key_jwt authentication, so a stolen one is useless
//     without the client's key, and a retried refresh whose answer was
//     lost still works.
//
// What every client gets already (response type code only, iss in every
// authorization response, exact redirect URIs, the issuer alone as the
// audience of client assertions, single-use request_uris that live under
// 600 s) the README's "Partner apps (FAPI 2.0)" lists with the rest.

// ProfileFAPI2 is storage.Client.Profile for the FAPI 2.0 Security Profile.
const ProfileFAPI2 = "fapi2"

// fapi2Algs are the algorithms of what a fapi2 client signs (FAPI 2.0
// Security Profile §5.4, as this issue narrows it).
var fapi2Algs = []jose.SignatureAlgorithm{jose.ES256, jose.PS256}

// fapiCodeTTL is the longest a fapi2 client's code lives (§5.3.2.1).
const fapiCodeTTL = time.Minute

func isFAPI2(c storage.Client) bool { return c.Profile == ProfileFAPI2 }

// requiresPAR reports whether c's authorization requests must be pushed.
func (p *Provider) requiresPAR(c storage.Client) bool {
	return c.RequirePAR || isFAPI2(c) || p.opts.RequirePAR
}

// requiresDPoP reports whether c's token requests must carry a proof.
func requiresDPoP(c storage.Client) bool { return c.DPoPBoundAccessTokens || isFAPI2(c) }

// rotatesRefreshTokens reports whether c's refresh tokens are replaced at
// every use.
func rotatesRefreshTokens(c storage.Client) bool { return !isFAPI2(c) }

// signingAlgAllowed reports whether c may sign with alg.
func signingAlgAllowed(c storage.Client, alg string) bool {
	return !isFAPI2(c) || slices.Contains(fapi2Algs, jose.SignatureAlgorithm(alg))
}

func errAlgNotAllowed() *oidc.Error {
	return oidc.ErrInvalidClient().WithDescription("this client is held to the FAPI 2.0 profile: sign with ES256 or PS256")
}

// codeTTL is how long a code of client clientID lives.
func (p *Provider) codeTTL(ctx context.Context, clientID string) time.Duration {
	if c, err := p.clients.get(ctx, clientID); err == nil && isFAPI2(c) {
		return min(p.opts.CodeTTL, fapiCodeTTL)
	}
	return p.opts.CodeTTL
}
