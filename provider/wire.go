package provider

import (
	"encoding/json"
	"net/http"
)

// realm names Tsubasa's protection space in WWW-Authenticate challenges.
const realm = "tsubasa"

// The headers of every OAuth/OIDC answer, set in one place for every
// endpoint, op's and Tsubasa's alike, success and error:
//
//   - token data (token, introspection, revocation, userinfo) and logout
//     answers are never stored by a cache: Cache-Control: no-store and, for
//     HTTP/1.0 caches, Pragma: no-cache (RFC 6749 §5.1 and §5.2, RFC 7662
//     §2.2, OpenID Connect Core 1.0 §3.1.3.3). Discovery and the key set set
//     their own public lifetimes (wellknown.go).
//   - nothing is sniffed as another type or framed: nosniff, a CSP with no
//     sources and frame-ancestors 'none', X-Frame-Options: DENY. end_session
//     gets frame-ancestors only, as it may answer with a page.
//
// Every endpoint of these classes is Tsubasa's own handler (routes.go), so
// errors are written whole where they are decided (writeOAuthError: a
// description always, a Basic challenge on every invalid_client), and
// nothing here has to correct an answer after the fact.
type wireClass int

const (
	wireNone       wireClass = iota
	wireMetadata             // discovery, the key set: public JSON
	wireClientAuth           // token, introspection, revocation, pushed authorization requests
	wireBearer               // userinfo
	wireLogout               // end_session
)

const (
	cspJSON   = "default-src 'none'; frame-ancestors 'none'"
	cspLogout = "frame-ancestors 'none'"
)

// withWireHeaders sets the headers of r's class (by exact, unescaped path,
// as op's router matches) before next writes anything.
func withWireHeaders(classes map[string]wireClass, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class := wireNone
		if r.URL.RawPath == "" {
			class = classes[r.URL.Path]
		}
		if class == wireNone {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if class == wireLogout {
			h.Set("Content-Security-Policy", cspLogout)
		} else {
			h.Set("Content-Security-Policy", cspJSON)
		}
		if class != wireMetadata {
			noStore(w)
		}
		next.ServeHTTP(w, r)
	})
}

// errorDescriptions are the descriptions of codes given bare (RFC 6749
// §5.2 names what each means): op's building blocks return some of its
// errors without one, which would leave the relying party's developer
// nothing to go on.
var errorDescriptions = map[string]string{
	"invalid_grant":          "the code or refresh token is invalid, expired or revoked, or was issued to another client",
	"invalid_request":        "the request is missing a required parameter or has an invalid one",
	"invalid_client":         "client authentication failed",
	"unauthorized_client":    "this client may not use this grant type",
	"invalid_scope":          "the requested scope is invalid or not allowed for this client",
	"unsupported_grant_type": "this grant type is not supported",
	"server_error":           "the server could not complete the request",
}

// describe is the description of a bare error code.
func describe(code string) string {
	if desc, ok := errorDescriptions[code]; ok {
		return desc
	}
	return "the request was refused"
}

const basicChallenge = `Basic realm="` + realm + `", charset="UTF-8"`

// oauthError is the JSON body of an OAuth error answer (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with an OAuth error. description is a fixed text,
// never an error's: it reaches the client.
func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// noStore keeps an answer out of every cache (errors of endpoints whose
// successes are cacheable included).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// methodNotAllowed refuses a method the endpoint does not serve.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	noStore(w)
	writeError(w, http.StatusMethodNotAllowed, "invalid_request", "this endpoint answers "+allow+" only")
}
