package provider

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
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
//   - a 401 at an endpoint that authenticates clients carries a Basic
//     challenge (RFC 6749 §5.2: MUST when the client used the Authorization
//     header; RFC 9110 §15.5.2: every 401 carries a challenge). Userinfo
//     writes its Bearer challenges itself (userinfo.go).
//   - an error at those endpoints carries an error_description: op
//     refuses some requests with a bare code (a refresh token that is
//     unknown, used or another client's; a grant the client may not use),
//     which leaves the relying party's developer nothing to go on.
type wireClass int

const (
	wireNone       wireClass = iota
	wireMetadata             // discovery, the key set: public JSON
	wireClientAuth           // token, introspection, revocation
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
		if class != wireClientAuth {
			next.ServeHTTP(w, r)
			return
		}
		d := &errorDescriber{ResponseWriter: &clientChallenge{ResponseWriter: w}}
		next.ServeHTTP(d, r)
		d.flush()
	})
}

// errorDescriber holds back a JSON error answer until it is complete and
// gives it the description of its code (errorDescriptions) if it has
// none. Other answers pass through untouched.
type errorDescriber struct {
	http.ResponseWriter
	status int
	held   *bytes.Buffer // the error's body, while held
}

func (d *errorDescriber) WriteHeader(code int) {
	if d.status != 0 {
		return
	}
	d.status = code
	if mt, _, _ := mime.ParseMediaType(d.Header().Get("Content-Type")); code >= 400 && mt == "application/json" {
		d.held = &bytes.Buffer{}
		return
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *errorDescriber) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.WriteHeader(http.StatusOK)
	}
	if d.held != nil {
		return d.held.Write(b)
	}
	return d.ResponseWriter.Write(b)
}

func (d *errorDescriber) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// flush sends a held error answer, described.
func (d *errorDescriber) flush() {
	if d.held == nil {
		return
	}
	body := describeError(d.held.Bytes())
	d.Header().Set("Content-Length", strconv.Itoa(len(body)))
	d.ResponseWriter.WriteHeader(d.status)
	_, _ = d.ResponseWriter.Write(body)
}

// errorDescriptions are the descriptions of the codes op may send bare
// (RFC 6749 §5.2 names what each means).
var errorDescriptions = map[string]string{
	"invalid_grant":          "the code or refresh token is invalid, expired or revoked, or was issued to another client",
	"invalid_request":        "the request is missing a required parameter or has an invalid one",
	"invalid_client":         "client authentication failed",
	"unauthorized_client":    "this client may not use this grant type",
	"invalid_scope":          "the requested scope is invalid or not allowed for this client",
	"unsupported_grant_type": "this grant type is not supported",
	"server_error":           "the server could not complete the request",
}

// describeError adds the description of its code to an OAuth error body
// that has none; any other body is returned as it is.
func describeError(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	code, _ := m["error"].(string)
	if desc, _ := m["error_description"].(string); code == "" || desc != "" {
		return body
	}
	desc, ok := errorDescriptions[code]
	if !ok {
		desc = "the request was refused"
	}
	m["error_description"] = desc
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return append(out, '\n')
}

// clientChallenge adds the Basic challenge to a 401 (op answers
// invalid_client without one).
type clientChallenge struct {
	http.ResponseWriter
	decided bool
}

const basicChallenge = `Basic realm="` + realm + `", charset="UTF-8"`

func (c *clientChallenge) WriteHeader(code int) {
	if !c.decided {
		c.decided = true
		if code == http.StatusUnauthorized && c.Header().Get("WWW-Authenticate") == "" {
			c.Header().Set("WWW-Authenticate", basicChallenge)
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *clientChallenge) Write(b []byte) (int, error) {
	if !c.decided {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

func (c *clientChallenge) Unwrap() http.ResponseWriter { return c.ResponseWriter }

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
