package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// The authorization request's parameters op does not decode, read by
// Tsubasa from the request as resolved (authorize.go) or pushed (par.go)
// and carried to CreateAuthRequest in the context:
//
//   - dpop_jkt (RFC 9449 §10): the thumbprint of the DPoP key the code is
//     bound to; a proof sent with a pushed request sets it (par.go).
//   - claims (OpenID Connect Core 1.0 §5.5), what claims_parameter_supported
//     advertises. Its id_token member asks for claims in the ID token: the
//     ones the granted scopes release are added there (they otherwise go
//     to userinfo only); a claim no granted scope releases is not returned
//     (§5.5: the request is a wish, and consent is given by scope, so the
//     parameter never widens what a client learns). The userinfo member
//     changes nothing: userinfo returns every claim its scopes release.
//     acr with values is a requirement of the login (§5.5.1.1): as an
//     essential claim its values replace acr_values, and when none of
//     them is a level Tsubasa offers the request is refused, since the
//     requirement could never be met; as a voluntary one they count only
//     when acr_values is absent. A sub with a value (a request to answer
//     only for that member) is refused: id_token_hint says that, verified.

// requestExtras are those parameters, checked.
type requestExtras struct {
	dpopJKT       string
	idTokenClaims []string
	acrValues     []string // from the claims parameter's acr, or nil
	acrEssential  bool
}

type extrasKey struct{}

// claimRequest is one claim's entry in the claims parameter (§5.5.1).
type claimRequest struct {
	Essential bool              `json:"essential"`
	Value     json.RawMessage   `json:"value"`
	Values    []json.RawMessage `json:"values"`
}

// parseExtras reads and checks the parameters from an authorization
// request's form.
func parseExtras(form url.Values) (requestExtras, *oidc.Error) {
	var x requestExtras
	if jkt := form.Get("dpop_jkt"); jkt != "" {
		if b, err := base64.RawURLEncoding.DecodeString(jkt); err != nil || len(b) != 32 {
			return x, oidc.ErrInvalidRequest().WithDescription("dpop_jkt must be the base64url SHA-256 thumbprint of a JWK (RFC 7638)")
		}
		x.dpopJKT = jkt
	}
	raw := form.Get("claims")
	if raw == "" {
		return x, nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &members) != nil || members == nil {
		return x, errClaims("the claims parameter must be a JSON object")
	}
	for _, name := range []string{"id_token", "userinfo"} {
		m, ok := members[name]
		if !ok || bytes.Equal(m, []byte("null")) {
			continue
		}
		var entries map[string]*claimRequest
		if json.Unmarshal(m, &entries) != nil || entries == nil {
			return x, errClaims("the claims parameter's " + name + " must be an object of claim requests, each null or an object")
		}
		if oerr := x.take(name, entries); oerr != nil {
			return x, oerr
		}
	}
	return x, nil
}

func errClaims(desc string) *oidc.Error { return oidc.ErrInvalidRequest().WithDescription("%s", desc) }

// take reads one member (id_token or userinfo) of the claims parameter.
func (x *requestExtras) take(member string, entries map[string]*claimRequest) *oidc.Error {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e := entries[n]
		if member == "id_token" && slices.Contains(supportedClaims, n) && !slices.Contains(x.idTokenClaims, n) {
			x.idTokenClaims = append(x.idTokenClaims, n)
		}
		if e == nil {
			continue
		}
		switch n {
		case "sub":
			if len(e.Value) > 0 || len(e.Values) > 0 {
				return errClaims("a sub value in the claims parameter is not supported: send id_token_hint to name the member")
			}
		case "acr":
			if oerr := x.takeACR(e); oerr != nil {
				return oerr
			}
		}
	}
	return nil
}

// takeACR reads a request for acr (§5.5.1.1).
func (x *requestExtras) takeACR(e *claimRequest) *oidc.Error {
	raw := e.Values
	if len(e.Value) > 0 {
		raw = append(raw, e.Value)
	}
	var values []string
	for _, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return errClaims("the acr claim's value and values must be strings")
		}
		values = append(values, s)
	}
	if len(values) == 0 || x.acrEssential && !e.Essential {
		return nil
	}
	if e.Essential && !slices.ContainsFunc(values, acr.Known) {
		return errClaims("none of the essential acr values is offered here; acr_values_supported: " + strings.Join(acr.Levels(), " "))
	}
	x.acrValues, x.acrEssential = values, e.Essential
	return nil
}

// applyExtras writes the extras the context carries (authorize.go) into a
// new authorization request.
func applyExtras(ctx context.Context, r *storage.AuthRequest) {
	x, ok := ctx.Value(extrasKey{}).(requestExtras)
	if !ok {
		return
	}
	r.DPoPJKT, r.IDTokenClaims = x.dpopJKT, x.idTokenClaims
	if len(x.acrValues) > 0 && (x.acrEssential || len(r.ACRValues) == 0) {
		r.ACRValues = x.acrValues
	}
}

// withExtras is ctx carrying x to CreateAuthRequest.
func withExtras(ctx context.Context, x requestExtras) context.Context {
	return context.WithValue(ctx, extrasKey{}, x)
}

// requestedIDTokenClaims adds to an ID token's claims those the claims
// parameter asked for there and the granted scopes release.
func requestedIDTokenClaims(info *oidc.UserInfo, m storage.Member, scopes, names []string) {
	if len(names) == 0 {
		return
	}
	full := new(oidc.UserInfo)
	setClaims(full, m, scopes)
	b, err := json.Marshal(full)
	if err != nil {
		return
	}
	var released map[string]any
	if json.Unmarshal(b, &released) != nil {
		return
	}
	for _, n := range names {
		switch n {
		case "sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid":
			continue // the ID token's own claims, set by op
		}
		for _, k := range []string{n, n + "#en"} {
			if v, ok := released[k]; ok {
				info.AppendClaims(k, v)
			}
		}
	}
}
