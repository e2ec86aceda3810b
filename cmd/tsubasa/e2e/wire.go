package e2e

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
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
//     6749 §5.2 for client authentication, RFC 6750 §3 for bearer tokens).
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
}
