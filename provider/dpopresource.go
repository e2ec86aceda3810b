package provider

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"tsubasa/storage"
)

// Access tokens at Tsubasa's resources (userinfo, the telephone API):
// RFC 6750 Bearer tokens and RFC 9449 DPoP-bound tokens, each only in its
// own scheme. A token bound to a key is refused as a Bearer token (in the
// header or a form), whatever else is right with it: the binding is the
// point (§7.2). A DPoP token needs a proof in a DPoP header, for this
// method and URL, with ath the hash of this token, made with the key the
// token is bound to; an unbound token sent with the DPoP scheme is
// refused too, so no client comes to believe it holds a bound one.
//
// The order: the header's form, the proof's own checks (its signature),
// the token (decryption, expiry, revocation, its client), the binding,
// the nonce, and last the proof's jti (the only write), so a request
// that would fail for any other reason writes nothing.

// ResourceError is why a resource request's access token was refused, as
// RFC 6750 §3 and RFC 9449 §7.1 answer it. Err is ErrInvalidToken,
// ErrInsufficientScope, ErrMemberToken or errNoToken, for errors.Is.
type ResourceError struct {
	Status      int
	Code        string // "" when the request carried no token at all
	Description string
	// DPoP: the request used the DPoP scheme, so the challenge with the
	// error is a DPoP one (the Bearer challenge goes along, bare).
	DPoP bool
	// Nonce is the DPoP-Nonce to send (use_dpop_nonce, and every answer
	// while nonces are required).
	Nonce string
	Scope string // the scope to name in an insufficient_scope challenge
	Err   error
}

func (e *ResourceError) Error() string { return e.Description }
func (e *ResourceError) Unwrap() error { return e.Err }

// storageAway is the answer of a resource request that storage could not
// serve (storage.Unavailable): nothing was decided about the token, which
// may well work in a moment, so it is never called invalid.
func storageAway(err error) *ResourceError {
	e := temporarilyUnavailable()
	return &ResourceError{Status: http.StatusServiceUnavailable, Code: string(e.ErrorType), Description: e.Description, Err: err}
}

// errNoToken: the request carried no access token.
var errNoToken = errors.New("provider: no access token")

// SetHeaders sets the challenges (and DPoP-Nonce) of e on h.
// An answer given while storage was away (503) says nothing about the
// token: no challenge, and Retry-After.
func (e *ResourceError) SetHeaders(h http.Header) {
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfter)
		return
	}
	bearer := `Bearer realm="` + realm + `"`
	dpop := `DPoP algs="` + strings.Join(strs(dpopSigningAlgs), " ") + `"`
	withError := func(c string) string {
		if e.Code == "" {
			return c
		}
		c += `, error="` + e.Code + `", error_description="` + e.Description + `"`
		if e.Scope != "" {
			c += `, scope="` + e.Scope + `"`
		}
		return c
	}
	if e.DPoP {
		dpop = withError(dpop)
	} else {
		bearer = withError(bearer)
	}
	h.Set("WWW-Authenticate", bearer)
	h.Add("WWW-Authenticate", dpop)
	if e.Nonce != "" {
		h.Set("DPoP-Nonce", e.Nonce)
	}
}

// Write answers with e: its headers and the same error as JSON.
func (e *ResourceError) Write(w http.ResponseWriter) {
	e.SetHeaders(w.Header())
	code, desc := e.Code, e.Description
	if code == "" {
		code = "invalid_request"
	}
	writeError(w, e.Status, code, desc)
}

// presented is how a request presents its access token.
type presented struct {
	token string
	dpop  bool // the DPoP scheme
}

// presentedToken reads the access token of a resource request from its
// Authorization header (Bearer or DPoP, case-insensitive: RFC 9110 §11.1)
// or, when form is true, a POSTed access_token (Bearer only); never from
// the query.
func presentedToken(r *http.Request, form bool) (presented, *ResourceError) {
	bad := func(desc string) (presented, *ResourceError) {
		return presented{}, &ResourceError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc, Err: ErrInvalidToken}
	}
	if r.URL.Query().Has("access_token") {
		return bad("the access token must not be sent in the URL")
	}
	var p presented
	switch auth := r.Header.Values("Authorization"); len(auth) {
	case 0:
	case 1:
		scheme, rest, _ := strings.Cut(auth[0], " ")
		p.dpop = strings.EqualFold(scheme, "DPoP")
		if p.dpop || strings.EqualFold(scheme, "Bearer") {
			if p.token = strings.TrimLeft(rest, " "); p.token == "" {
				return bad("the Authorization header carries an empty " + scheme + " token")
			}
		}
	default:
		return bad("the request carries more than one Authorization header")
	}
	if form {
		switch body := r.PostForm["access_token"]; {
		case len(body) > 1 || len(body) == 1 && p.token != "":
			return bad("the access token must be sent once, in one way")
		case len(body) == 1:
			p = presented{token: body[0]}
		}
	}
	if p.token == "" {
		return p, &ResourceError{Status: http.StatusUnauthorized, Description: "an access token is required, in the Authorization header", Err: errNoToken}
	}
	return p, nil
}

// ResourceToken checks the access token of a request to the resource at
// url (an absolute URL as clients call it: ResourceURL), Bearer or DPoP,
// and returns its record; scope, when set, must have been granted.
func (p *Provider) ResourceToken(r *http.Request, url, scope string) (storage.Token, *ResourceError) {
	return p.resourceToken(r, url, scope, false)
}

// ResourceURL is the absolute URL of one of this server's paths, as a
// DPoP proof's htu names it.
func (p *Provider) ResourceURL(path string) string {
	return strings.TrimSuffix(p.opts.Issuer, "/") + path
}

func (p *Provider) resourceToken(r *http.Request, url, scope string, form bool) (storage.Token, *ResourceError) {
	pt, rerr := presentedToken(r, form)
	if rerr != nil {
		return storage.Token{}, rerr
	}
	fail := func(status int, code, desc string, err error) (storage.Token, *ResourceError) {
		return storage.Token{}, &ResourceError{Status: status, Code: code, Description: desc, DPoP: pt.dpop, Err: err}
	}
	var proof dpopProof
	if pt.dpop {
		raw, err := proofHeader(r)
		if err == nil && raw == "" {
			err = errProof("a DPoP proof is required with the DPoP scheme")
		}
		if err == nil {
			proof, err = checkProof(raw, proofWant{method: r.Method, url: url, accessToken: pt.token,
				algs: dpopSigningAlgs, maxAge: p.opts.DPoPProofMaxAge}, p.now())
		}
		if err != nil {
			return fail(http.StatusUnauthorized, "invalid_dpop_proof", err.Error(), ErrInvalidToken)
		}
	}
	t, err := p.AccessToken(r.Context(), pt.token, "")
	switch {
	case errors.Is(err, ErrInvalidToken):
		return fail(http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked", ErrInvalidToken)
	case storage.Unavailable(err):
		return storage.Token{}, storageAway(err)
	case err != nil:
		return fail(http.StatusInternalServerError, "server_error", "the access token could not be checked", err)
	}
	if rerr := p.checkBinding(r.Context(), t, pt, proof); rerr != nil {
		return storage.Token{}, rerr
	}
	if scope != "" && !slices.Contains(t.Scopes, scope) {
		return t, &ResourceError{Status: http.StatusForbidden, Code: "insufficient_scope", DPoP: pt.dpop,
			Description: "the access token was not issued with the " + scope + " scope", Scope: scope, Err: ErrInsufficientScope}
	}
	return t, nil
}

// checkBinding checks the token's DPoP binding against how it came, and
// for a DPoP token, the nonce and the proof's single use.
func (p *Provider) checkBinding(ctx context.Context, t storage.Token, pt presented, proof dpopProof) *ResourceError {
	fail := func(code, desc string) *ResourceError {
		return &ResourceError{Status: http.StatusUnauthorized, Code: code, Description: desc, DPoP: pt.dpop || t.JKT != "", Err: ErrInvalidToken}
	}
	switch {
	case t.JKT != "" && !pt.dpop:
		p.log.WarnContext(ctx, "a DPoP-bound access token sent as a bearer token", "client_id", t.ClientID)
		return fail("invalid_token", "this access token is bound to a DPoP key: send it with the DPoP scheme and a proof")
	case t.JKT == "" && pt.dpop:
		return fail("invalid_token", "this access token is not bound to a DPoP key: send it as a Bearer token")
	case !pt.dpop:
		return nil
	case proof.jkt != t.JKT:
		p.log.WarnContext(ctx, "a DPoP proof by another key than the token's", "client_id", t.ClientID)
		return fail("invalid_dpop_proof", "the DPoP proof is not made with the key this access token is bound to")
	}
	if c, err := p.clients.get(ctx, t.ClientID); err == nil && !signingAlgAllowed(c, proof.alg) {
		return fail("invalid_dpop_proof", "this client is held to the FAPI 2.0 profile: sign DPoP proofs with ES256 or PS256")
	}
	if p.nonces.required() {
		nonce := p.nonces.issue()
		if !p.nonces.valid(proof.nonce) {
			e := fail("use_dpop_nonce", "the DPoP proof must carry the nonce of the DPoP-Nonce header")
			e.Nonce = nonce
			return e
		}
	}
	switch err := p.useProof(ctx, proof); {
	case errors.Is(err, errProofReplayed):
		return fail("invalid_dpop_proof", "the DPoP proof was used before: make a new proof, with a new jti, for every request")
	case storage.Unavailable(err):
		return storageAway(err)
	case err != nil:
		return &ResourceError{Status: http.StatusInternalServerError, Code: "server_error", Description: "the DPoP proof could not be checked", Err: err}
	}
	return nil
}

// DPoPNonce is the nonce to send with an answer to a request that came
// with a DPoP proof, or "" while nonces are not required.
func (p *Provider) DPoPNonce() string {
	if !p.nonces.required() {
		return ""
	}
	return p.nonces.issue()
}
