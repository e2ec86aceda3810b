package provider

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeRawParameters: what op cannot see in the parsed request
// is decided on the raw parameters (RFC 6749 §3.1, §4.1.2.1): a known
// parameter given twice, or a max_age that is no number, is
// invalid_request at the redirect URI when the client and its redirect
// URI are sound and given once, and the error page otherwise; a repeated
// state is echoed as neither value; unknown parameters are ignored,
// repeated or not. No answer may be cached.
func TestAuthorizeRawParameters(t *testing.T) {
	e := newWireEnv(t)
	base := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {wireRedirect}, "scope": {"openid"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}.Encode()
	for _, tt := range []struct {
		query, target, state string
	}{
		{base + "&utm=a&utm=b", "/login?", ""},
		{base + "&scope=profile", wireRedirect + "?", "st"},
		{base + "&nonce=n2", wireRedirect + "?", "st"},
		{base + "&prompt=none&prompt=login", wireRedirect + "?", "st"},
		{base + "&request_uri=a&request_uri=b", wireRedirect + "?", "st"},
		{base + "&state=other", wireRedirect + "?", ""},
		{base + "&max_age=soon", wireRedirect + "?", "st"},
		{base + "&max_age=-1", wireRedirect + "?", "st"},
		{base + "&max_age=soon&response_mode=fragment", wireRedirect + "#", "st"},
		{base + "&client_id=web", "", ""},
		{base + "&redirect_uri=" + url.QueryEscape(wireRedirect), "", ""},
		{strings.Replace(base, "client_id=web", "client_id=nobody", 1) + "&max_age=soon", "", ""},
		{strings.Replace(base, "rp.example", "evil.example", 1) + "&scope=x", "", ""},
	} {
		rec := e.serve(httptest.NewRequest(http.MethodGet, wireIssuer+"/authorize?"+tt.query, nil))
		loc := rec.Header().Get("Location")
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tt.query, rec.Header().Get("Cache-Control"))
		}
		if tt.target == "" {
			if rec.Code != http.StatusBadRequest || loc != "" {
				t.Errorf("%s: %d to %q, want 400 and no redirect", tt.query, rec.Code, loc)
			}
			continue
		}
		if rec.Code != http.StatusFound || !strings.HasPrefix(loc, tt.target) {
			t.Errorf("%s: %d to %q, want a redirect to %s", tt.query, rec.Code, loc, tt.target)
			continue
		}
		if tt.target == "/login?" {
			continue
		}
		params, _ := url.ParseQuery(loc[len(tt.target):])
		if params.Get("error") != "invalid_request" || params.Get("error_description") == "" || params.Get("state") != tt.state || params.Has("code") {
			t.Errorf("%s: %v, want invalid_request with a description and state %q", tt.query, params, tt.state)
		}
	}
}
