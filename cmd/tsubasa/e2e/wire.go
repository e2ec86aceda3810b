package e2e

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Wire is one raw answer of an OAuth/OIDC endpoint, its body read.
type Wire struct {
	Status int
	Header http.Header
	Body   []byte
}

// noFollow reports the server's own answer: redirects are not followed.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// WireDo sends req as it is (no cookies, redirects not followed) and reads
// the answer.
func WireDo(t *testing.T, req *http.Request) Wire {
	t.Helper()
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return Wire{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// JSON decodes the body as a JSON object.
func (w Wire) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %q", w.Status, err, w.Body)
	}
	return m
}

// CheckWire is the one header check every OAuth/OIDC endpoint answer
// passes, success or error:
//
//   - JSON: Content-Type application/json, and a body (if any) that is JSON;
//   - nothing sniffed or framed: nosniff, X-Frame-Options: DENY and a
//     Content-Security-Policy with frame-ancestors 'none';
//   - nothing cached that holds token data or is an error: Cache-Control:
//     no-store and Pragma: no-cache, unless the answer is a cacheable
//     document (discovery, the key set) answered 200, which must say how
//     long it may be kept;
//   - a 401 names its scheme in WWW-Authenticate (RFC 9110 §15.5.2; RFC
//     6749 §5.2 for client authentication, RFC 6750 §3 for bearer tokens);
//   - an error answer's fields pass CheckErrorFields.
func CheckWire(t *testing.T, what string, w Wire, cacheable bool) {
	t.Helper()
	h := w.Header
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, h.Get("Content-Type"))
	}
	if len(w.Body) > 0 && !json.Valid(w.Body) {
		t.Errorf("%s: the body is not JSON: %q", what, w.Body)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, h.Get("X-Content-Type-Options"))
	}
	if !strings.EqualFold(h.Get("X-Frame-Options"), "DENY") || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("%s: framing allowed: X-Frame-Options %q, Content-Security-Policy %q", what, h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
	}
	cc := h.Get("Cache-Control")
	switch {
	case cacheable && w.Status == http.StatusOK:
		if !strings.Contains(cc, "max-age=") || strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q, want a lifetime", what, cc)
		}
	case !strings.Contains(cc, "no-store") || h.Get("Pragma") != "no-cache":
		t.Errorf("%s (%d): Cache-Control %q, Pragma %q; want no-store and no-cache", what, w.Status, cc, h.Get("Pragma"))
	}
	if w.Status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: 401 without WWW-Authenticate", what)
	}
	var e struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
		URI         any `json:"error_uri"`
	}
	if w.Status >= 400 && json.Unmarshal(w.Body, &e) == nil && e.Error != nil {
		code, ok1 := e.Error.(string)
		desc, ok2 := e.Description.(string)
		uri, ok3 := e.URI.(string)
		if !ok1 || (e.Description != nil && !ok2) || (e.URI != nil && !ok3) {
			t.Errorf("%s: error, error_description and error_uri must be strings: %s", what, w.Body)
		}
		CheckErrorFields(t, what, code, desc, uri)
	}
}

// CheckErrorFields checks an OAuth error's fields, in a JSON body or in a
// redirect: error and error_description of the characters RFC 6749
// §4.1.2.1 and §5.2 allow (printable ASCII but '"' and '\', so that a
// relying party can put them in a header or a log line as they are), an
// error code made of them, and error_uri, if any, an absolute URI.
func CheckErrorFields(t *testing.T, what, code, description, uri string) {
	t.Helper()
	if code == "" || !oauthErrorChars(code) || strings.ContainsRune(code, ' ') {
		t.Errorf("%s: error %q: want a code of RFC 6749 §5.2's characters", what, code)
	}
	if !oauthErrorChars(description) {
		t.Errorf("%s: error_description %q has characters outside %%x20-21 / %%x23-5B / %%x5D-7E (RFC 6749 §5.2)", what, description)
	}
	if uri != "" {
		if u, err := url.Parse(uri); err != nil || !u.IsAbs() || !oauthErrorChars(uri) {
			t.Errorf("%s: error_uri %q is not an absolute URI of RFC 6749 §5.2's characters", what, uri)
		}
	}
}

// oauthErrorChars: %x20-21 / %x23-5B / %x5D-7E.
func oauthErrorChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
