package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// Signed request objects (RFC 9101, OpenID Connect Core 1.0 §6.1), by
// value at /authorize and inside a pushed request (par.go), from clients
// that registered keys (jwks or jwks_uri); a client without keys is
// answered request_not_supported, as before. The object is verified, then
// it is the request: its claims are the authorization request's
// parameters, and the query's are ignored but for client_id, which must
// name the same client (RFC 9101 §5, §6.3). What is checked:
//
//   - a compact JWS (an encrypted object is refused) signed with one of
//     clientSigningAlgs by a key of the client: alg none, an HMAC, or a
//     key of another client is no signature;
//   - typ, when present, is oauth-authz-req+jwt (or JWT), so another kind
//     of JWT the client signed (a client assertion, a DPoP proof) is not
//     taken for a request;
//   - iss is the client, aud this issuer (alone or in a list), exp present
//     and at most maxRequestObjectLifetime ahead, nbf and iat not in the
//     future, client_id (when present) the client;
//   - no request or request_uri inside, and every parameter a JSON string
//     (max_age a whole number, claims an object).
//
// Errors are invalid_request_object, sent to the request's redirect URI
// when the query's client_id and redirect_uri are sound (authorize.go).

const (
	maxRequestObjectLifetime = time.Hour
	requestObjectTyp         = "oauth-authz-req+jwt"
)

// objectParams are the authorization parameters a request object may set.
var objectParams = slices.DeleteFunc(slices.Clone(authorizeParams), func(k string) bool {
	return k == "request" || k == "request_uri"
})

func errRequestObject(format string, args ...any) *oidc.Error {
	return (&oidc.Error{ErrorType: "invalid_request_object"}).WithDescription(format, args...)
}

// requestObjectParams verifies client c's request object raw and returns
// the parameters it carries.
func (p *Provider) requestObjectParams(ctx context.Context, c storage.Client, raw string) (url.Values, *oidc.Error) {
	obj, oerr := parseRequestObjectJWS(raw)
	if oerr != nil {
		return nil, oerr
	}
	if !signingAlgAllowed(c, obj.Signatures[0].Header.Algorithm) {
		return nil, errRequestObject("this client is held to the FAPI 2.0 profile: sign request objects with ES256 or PS256")
	}
	keys, err := p.clientKeys.keys(ctx, c, obj.Signatures[0].Header.KeyID)
	if err != nil {
		p.log.WarnContext(ctx, "client keys unavailable", "client_id", c.ID, "err", err)
		return nil, errRequestObject("the request object's signature could not be checked: the client's keys are unavailable")
	}
	return verifyRequestObject(obj, keys, c.ID, p.opts.Issuer, p.now())
}

// parseRequestObjectJWS parses raw as a compact JWS of an allowed
// algorithm and type, signature unchecked.
func parseRequestObjectJWS(raw string) (*jose.JSONWebSignature, *oidc.Error) {
	if strings.Count(raw, ".") == 4 {
		return nil, errRequestObject("encrypted request objects are not supported: sign it, do not encrypt it")
	}
	obj, err := jose.ParseSignedCompact(raw, clientSigningAlgs)
	if err != nil || len(obj.Signatures) != 1 {
		return nil, errRequestObject("the request object must be a JWT signed with one of: %s", strings.Join(strs(clientSigningAlgs), ", "))
	}
	typ, _ := obj.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
	switch strings.ToLower(strings.TrimPrefix(strings.ToLower(typ), "application/")) {
	case "", "jwt", requestObjectTyp:
	default:
		return nil, errRequestObject("the request object's typ must be %s", requestObjectTyp)
	}
	return obj, nil
}

// verifyRequestObject checks obj's signature with keys and its claims,
// for client clientID at issuer, and returns its parameters.
func verifyRequestObject(obj *jose.JSONWebSignature, keys []jose.JSONWebKey, clientID, issuer string, now time.Time) (url.Values, *oidc.Error) {
	var payload []byte
	for _, k := range candidateKeys(keys, obj.Signatures[0].Header) {
		if b, err := obj.Verify(k.Key); err == nil {
			payload = b
			break
		}
	}
	if payload == nil {
		return nil, errRequestObject("the request object's signature does not verify with the client's keys")
	}
	var reg struct {
		Issuer    string           `json:"iss"`
		Audience  jwt.Audience     `json:"aud"`
		Expiry    *jwt.NumericDate `json:"exp"`
		NotBefore *jwt.NumericDate `json:"nbf"`
		IssuedAt  *jwt.NumericDate `json:"iat"`
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil || json.Unmarshal(payload, &reg) != nil {
		return nil, errRequestObject("the request object's claims are not a JSON object of the registered claim types")
	}
	switch {
	case reg.Issuer != clientID:
		return nil, errRequestObject("the request object's iss must be the client_id")
	case !slices.Contains(reg.Audience, issuer):
		return nil, errRequestObject("the request object's aud must be the issuer identifier %s", issuer)
	case reg.Expiry == nil:
		return nil, errRequestObject("the request object must have exp")
	case !now.Before(reg.Expiry.Time().Add(assertionLeeway)):
		return nil, errRequestObject("the request object has expired")
	case reg.Expiry.Time().After(now.Add(maxRequestObjectLifetime + assertionLeeway)):
		return nil, errRequestObject("the request object lives too long: exp may be at most 60 minutes ahead")
	case reg.NotBefore != nil && reg.NotBefore.Time().After(now.Add(assertionLeeway)),
		reg.IssuedAt != nil && reg.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return nil, errRequestObject("the request object is not valid yet (nbf or iat in the future)")
	}
	return objectClaims(claims, clientID)
}

// objectClaims turns a verified request object's claims into
// authorization parameters.
func objectClaims(claims map[string]json.RawMessage, clientID string) (url.Values, *oidc.Error) {
	for _, k := range []string{"request", "request_uri"} {
		if _, ok := claims[k]; ok {
			return nil, errRequestObject("a request object must not contain %s", k)
		}
	}
	params := url.Values{}
	for _, k := range objectParams {
		raw, ok := claims[k]
		if !ok || bytes.Equal(raw, []byte("null")) {
			continue
		}
		v, ok := paramValue(k, raw)
		if !ok {
			return nil, errRequestObject("the request object's %s has the wrong type", k)
		}
		params.Set(k, v)
	}
	if id := params.Get("client_id"); id != "" && id != clientID {
		return nil, errRequestObject("the request object's client_id is not the client's")
	}
	params.Set("client_id", clientID)
	return params, nil
}

// paramValue is the form value of claim k: a JSON string as it is,
// max_age a whole number, claims an object (compact JSON).
func paramValue(k string, raw json.RawMessage) (string, bool) {
	switch k {
	case "max_age":
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", false
		}
		v, err := strconv.ParseUint(n.String(), 10, 63)
		return strconv.FormatUint(v, 10), err == nil
	case "claims":
		var obj map[string]json.RawMessage
		var b bytes.Buffer
		if json.Unmarshal(raw, &obj) != nil || obj == nil || json.Compact(&b, raw) != nil {
			return "", false
		}
		return b.String(), true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}
