package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// DPoP at the token endpoint (RFC 9449 §5) and at the pushed request
// endpoint (§10.1). serveToken checks the proof once the client is
// authenticated and before the grant handler runs; the key's thumbprint
// then travels in the context (binding) to the code that mints:
//
//   - access tokens carry the thumbprint inside their encryption
//     (accesstoken.go), token_type is DPoP, and the resource endpoints
//     accept them only with a proof by that key (dpopresource.go);
//   - a public client's refresh tokens are bound to the key as well
//     (§5: its refresh tokens are otherwise bearer tokens), so a refresh
//     needs a proof by the same key. A confidential client's refresh
//     tokens are not: its authentication binds them already, and a
//     client may change its DPoP key at a refresh (§5), as FAPI 2.0
//     partners rotating keys do;
//   - a code requested with dpop_jkt, or pushed with a proof, is good
//     only with a proof by that key (checkExchange).
//
// A client with dpop_bound_access_tokens (or the fapi2 profile) must send
// a proof with every token request. Errors are invalid_dpop_proof, or
// use_dpop_nonce with a fresh nonce in DPoP-Nonce, as 400 JSON answers.

// binding is what the token endpoint tells the minting code about DPoP.
type binding struct {
	jkt string
	// bindRefresh: the refresh tokens minted carry jkt too (public clients).
	bindRefresh bool
	// rotate: the presented refresh token is replaced (not for fapi2).
	rotate bool
}

type bindingKey struct{}

// bindingOf is the binding serveToken put in ctx (none outside it).
func bindingOf(ctx context.Context) binding {
	b, ok := ctx.Value(bindingKey{}).(binding)
	if !ok {
		return binding{rotate: true}
	}
	return b
}

func errDPoP(desc string) *oidc.Error {
	return (&oidc.Error{ErrorType: "invalid_dpop_proof"}).WithDescription("%s", desc)
}

// requestProof checks the DPoP proof of a request from client c to the
// endpoint at url, and returns its key's thumbprint: "" when there is no
// proof and c needs none. It records the proof's jti, so call it once the
// client is authenticated.
func (p *Provider) requestProof(w http.ResponseWriter, r *http.Request, c storage.Client, url string) (string, *oidc.Error) {
	raw, err := proofHeader(r)
	switch {
	case err != nil:
		return "", errDPoP(err.Error())
	case raw == "" && requiresDPoP(c):
		return "", errDPoP("this client must send a DPoP proof (RFC 9449) with every token request")
	case raw == "":
		return "", nil
	}
	proof, err := checkProof(raw, proofWant{method: r.Method, url: url, algs: algsFor(isFAPI2(c)),
		maxAge: p.opts.DPoPProofMaxAge}, p.now())
	if err != nil {
		p.log.InfoContext(r.Context(), "DPoP proof refused", "client_id", c.ID, "reason", err.Error())
		return "", errDPoP(err.Error())
	}
	if oerr := p.proofNonce(w, proof); oerr != nil {
		return "", oerr
	}
	switch err := p.useProof(r.Context(), proof); {
	case errors.Is(err, errProofReplayed):
		return "", errDPoP("the DPoP proof was used before: make a new proof, with a new jti, for every request")
	case err != nil:
		return "", oidc.ErrServerError().WithParent(err)
	}
	return proof.jkt, nil
}

// proofNonce checks a proof's nonce when nonces are required, and sets the
// current nonce on the answer either way.
func (p *Provider) proofNonce(w http.ResponseWriter, proof dpopProof) *oidc.Error {
	if !p.nonces.required() {
		return nil
	}
	w.Header().Set("DPoP-Nonce", p.nonces.issue())
	if !p.nonces.valid(proof.nonce) {
		return (&oidc.Error{ErrorType: "use_dpop_nonce"}).WithDescription("the DPoP proof must carry the nonce of the DPoP-Nonce header")
	}
	return nil
}

// tokenBinding is the binding of a token request with proof key jkt.
func tokenBinding(c storage.Client, jkt string) binding {
	return binding{jkt: jkt, bindRefresh: jkt != "" && c.Public, rotate: rotatesRefreshTokens(c)}
}

// checkRefreshBinding refuses a refresh token bound to a key the request
// does not prove.
func checkRefreshBinding(t storage.Token, jkt string) *oidc.Error {
	switch {
	case t.JKT == "":
		return nil
	case jkt == "":
		return errDPoP("this refresh token is bound to a DPoP key: send a proof made with it")
	case jkt != t.JKT:
		return errDPoP("this refresh token is bound to another DPoP key")
	}
	return nil
}

// writeTokenResponse answers a token request: token_type DPoP for a
// bound access token.
func writeTokenResponse(w http.ResponseWriter, resp any, jkt string) {
	if tr, ok := resp.(*oidc.AccessTokenResponse); ok && jkt != "" && tr.AccessToken != "" {
		tr.TokenType = tokenTypeDPoP
	}
	writeJSON(w, http.StatusOK, resp)
}

const tokenTypeDPoP = "DPoP"

// pushedProof checks the DPoP proof a pushed request may come with (RFC
// 9449 §10.1) and binds the code to its key: dpop_jkt is set to its
// thumbprint, and a dpop_jkt the client sent must be that one.
func (p *Provider) pushedProof(w http.ResponseWriter, r *http.Request, c storage.Client, params map[string][]string) *oidc.Error {
	if r.Header.Get("DPoP") == "" {
		return nil // optional here, even for clients that must bind their tokens
	}
	jkt, oerr := p.requestProof(w, r, c, p.ResourceURL(parPath))
	if oerr != nil {
		return oerr
	}
	if v := params["dpop_jkt"]; len(v) > 0 && v[0] != jkt {
		return oidc.ErrInvalidRequest().WithDescription("dpop_jkt is not the thumbprint of the DPoP proof's key")
	}
	params["dpop_jkt"] = []string{jkt}
	return nil
}
