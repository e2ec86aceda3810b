package provider

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// private_key_jwt (RFC 7523 §2.2 and §3, OpenID Connect Core 1.0 §9): the
// client proves who it is with a JWT it signed with one of its registered
// keys. What is checked, in this order, so that the checks a stranger can
// fail come before any key is fetched or any jti stored:
//
//   - client_assertion_type is urn:ietf:params:oauth:client-assertion-type:jwt-bearer;
//   - the assertion is a compact JWS signed with one of clientSigningAlgs
//     (never none, never an HMAC: a key-confusion "signature" made with
//     the client's public key is not one);
//   - iss and sub are the client's id, and client_id, when sent, too;
//   - aud is this issuer's identifier, as a JSON string: not the token
//     endpoint's URL, not a list (FAPI 2.0 Security Profile §5.3.2.1 and
//     RFC 7523bis, against audience injection: an assertion a client made
//     for one server is never good at another, nor one made for a list);
//   - exp is present, not past, and at most assertionMaxLifetime ahead
//     (a short-lived proof, not a credential); nbf and iat, when present,
//     not in the future; jti is present;
//   - the signature verifies with a key of the client (its jwks or the
//     keys at its jwks_uri: clientkeys.go), the client registered
//     private_key_jwt;
//   - the client's profile allows the algorithm (fapi2: ES256 or PS256);
//   - the jti has not been used by this client before: the replay check
//     (replay.go) remembers it until the assertion expires, in the store
//     in one atomic step on PostgreSQL (a replay fails on every replica),
//     in this process's memory on bbolt, behind a fence that a restart
//     cannot get round.
//
// Every failure is invalid_client. Failures of the assertion's form say
// what is wrong (they tell nothing about the client); a wrong signature,
// an unknown client or a client of another method share one answer.

// assertionMaxLifetime bounds how far in the future a client assertion may
// expire; assertionLeeway is the clock skew allowed either way.
const (
	assertionMaxLifetime = 5 * time.Minute
	assertionLeeway      = 30 * time.Second
	maxJTILength         = 256
)

// assertionClaims are the claims of a client assertion.
type assertionClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  json.RawMessage  `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
}

// assertedClient authenticates the client of a request carrying a client
// assertion; formID is client_id as sent ("" when absent).
func (p *Provider) assertedClient(r *http.Request, formID string) (storage.Client, *oidc.Error) {
	form := r.PostForm
	if form.Get("client_assertion_type") != oidc.ClientAssertionTypeJWTAssertion {
		return storage.Client{}, oidc.ErrInvalidRequest().WithDescription("client_assertion_type must be %s", oidc.ClientAssertionTypeJWTAssertion)
	}
	raw := form.Get("client_assertion")
	tok, claims, oerr := parseAssertion(raw, p.opts.Issuer, formID, p.now())
	if oerr != nil {
		return storage.Client{}, oerr
	}
	ctx := r.Context()
	c, err := p.clients.get(ctx, claims.Issuer)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.Client{}, p.authFailed(r, claims.Issuer, "unknown client")
	case err != nil:
		return storage.Client{}, oidc.ErrServerError().WithParent(err)
	case c.TokenEndpointAuthMethod != string(oidc.AuthMethodPrivateKeyJWT):
		return storage.Client{}, p.authFailed(r, c.ID, "a client assertion from a client that does not use private_key_jwt")
	}
	if !signingAlgAllowed(c, tok.Headers[0].Algorithm) {
		p.log.InfoContext(ctx, "client authentication failed", "client_id", c.ID, "reason", "an algorithm its profile does not allow")
		return storage.Client{}, errAlgNotAllowed()
	}
	if !p.verifyWithClientKeys(r, c, tok) {
		return storage.Client{}, p.authFailed(r, c.ID, "the client assertion's signature does not verify with the client's keys")
	}
	var iat time.Time
	if claims.IssuedAt != nil {
		iat = claims.IssuedAt.Time()
	}
	err = p.replay.use(ctx, p.tokenHash("client-assertion-jti", c.ID+"\x00"+claims.ID), iat,
		claims.Expiry.Time().Add(assertionLeeway))
	switch {
	case errors.Is(err, errReplayed):
		p.log.WarnContext(ctx, "client assertion replayed", "client_id", c.ID)
		return storage.Client{}, oidc.ErrInvalidClient().WithDescription("the client assertion was used before: sign a new one, with a new jti, for every request")
	case errors.Is(err, errBeforeStart):
		p.log.InfoContext(ctx, "client assertion made before the server started", "client_id", c.ID)
		return storage.Client{}, oidc.ErrInvalidClient().WithDescription("the client assertion was made before the server last started: sign a new one")
	case err != nil:
		return storage.Client{}, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

// parseAssertion checks everything about an assertion that needs no key
// and returns it with its (unverified) claims.
func parseAssertion(raw, issuer, formID string, now time.Time) (*jwt.JSONWebToken, assertionClaims, *oidc.Error) {
	bad := func(desc string) (*jwt.JSONWebToken, assertionClaims, *oidc.Error) {
		return nil, assertionClaims{}, oidc.ErrInvalidClient().WithDescription("%s", desc)
	}
	if raw == "" {
		return bad("client_assertion is required")
	}
	tok, err := jwt.ParseSigned(raw, clientSigningAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return bad("the client assertion must be a JWT signed with one of: " + strings.Join(strs(clientSigningAlgs), ", "))
	}
	var c assertionClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return bad("the client assertion's claims are not a JSON object of the registered claim types")
	}
	switch {
	case c.Issuer == "" || c.Issuer != c.Subject:
		return bad("the client assertion's iss and sub must both be the client_id")
	case formID != "" && formID != c.Issuer:
		return bad("client_id differs from the client assertion's iss and sub")
	case !isJSONString(c.Audience, issuer):
		return bad("the client assertion's aud must be the issuer identifier " + issuer + ", as a single string")
	case c.Expiry == nil:
		return bad("the client assertion must have exp")
	case !now.Before(c.Expiry.Time().Add(assertionLeeway)):
		return bad("the client assertion has expired")
	case c.Expiry.Time().After(now.Add(assertionMaxLifetime + assertionLeeway)):
		return bad("the client assertion lives too long: exp may be at most 5 minutes ahead")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionLeeway)),
		c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return bad("the client assertion is not valid yet (nbf or iat in the future)")
	case c.ID == "" || len(c.ID) > maxJTILength:
		return bad("the client assertion must have a jti (at most 256 characters)")
	}
	return tok, c, nil
}

// isJSONString reports whether raw is the JSON string want.
func isJSONString(raw json.RawMessage, want string) bool {
	var s string
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && s == want
}

// verifyWithClientKeys reports whether tok's signature verifies with one
// of c's keys that fits its header (kid, alg, use).
func (p *Provider) verifyWithClientKeys(r *http.Request, c storage.Client, tok *jwt.JSONWebToken) bool {
	h := tok.Headers[0]
	keys, err := p.clientKeys.keys(r.Context(), c, h.KeyID)
	if err != nil {
		p.log.WarnContext(r.Context(), "client keys unavailable", "client_id", c.ID, "err", err)
		return false
	}
	for _, k := range candidateKeys(keys, h) {
		var out json.RawMessage
		if tok.Claims(k.Key, &out) == nil {
			return true
		}
	}
	return false
}

// candidateKeys are the keys of set that may have made a signature with
// header h: its kid (any key when h has none), signature use, and the
// header's algorithm when the key names one.
func candidateKeys(set []jose.JSONWebKey, h jose.Header) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set {
		switch {
		case h.KeyID != "" && k.KeyID != h.KeyID,
			k.Use != "" && k.Use != "sig",
			k.Algorithm != "" && k.Algorithm != h.Algorithm:
			continue
		}
		out = append(out, k)
	}
	return out
}
