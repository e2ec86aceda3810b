package config

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateAppRedirects: native apps' redirect URIs (RFC 8252) as
// config accepts and refuses them, each refusal at its key path with what
// to write instead.
func TestValidateAppRedirects(t *testing.T) {
	app := func(uris ...string) ClientConfig {
		return ClientConfig{ID: "miles-app", Public: true, RedirectURIs: uris}
	}
	good := map[string][]ClientConfig{
		"private-use scheme":                {app("com.example.miles:/callback")},
		"private-use scheme, deeper path":   {app("jp.co.example.miles:/oauth2/callback?x=1")},
		"claimed https":                     {app("https://miles.example.com/app/callback")},
		"loopback v4 without a port":        {app("http://127.0.0.1/callback")},
		"loopback v6 without a port":        {app("http://[::1]/callback")},
		"loopback with a port (exact only)": {app("http://127.0.0.1:8400/callback")},
		"localhost with a port (web dev)":   {app("http://localhost:3000/callback")},
		"post-logout private-use":           {{ID: "a", Public: true, RedirectURIs: []string{"com.example.a:/cb"}, PostLogoutRedirectURIs: []string{"com.example.a:/bye"}}},
		"two apps, two schemes":             {app("com.example.miles:/cb"), {ID: "other", Public: true, RedirectURIs: []string{"com.example.other:/cb"}}},
		"web URIs may be shared":            {{ID: "a", Secret: "s", RedirectURIs: []string{"https://web.example/cb"}}, {ID: "b", Secret: "s", RedirectURIs: []string{"https://web.example/cb"}}},
		"loopback with a port may be shared": {{ID: "a", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:9000/cb"}},
			{ID: "b", Public: true, RedirectURIs: []string{"http://127.0.0.1:9000/cb"}}},
	}
	for name, cs := range good {
		t.Run("good/"+name, func(t *testing.T) {
			c := prodConfig()
			c.Clients = cs
			if err := c.Validate(); err != nil {
				t.Errorf("Validate:\n%v", err)
			}
		})
	}
	bad := []struct {
		name    string
		clients []ClientConfig
		path    string
		msg     string
	}{
		{"scheme without a dot", []ClientConfig{app("miles:/callback")}, "clients[0].redirect_uris[0]", "reverse domain name"},
		{"scheme ending with a dot", []ClientConfig{app("com.example.:/callback")}, "clients[0].redirect_uris[0]", "reverse domain name"},
		{"javascript", []ClientConfig{app("javascript:alert(1)")}, "clients[0].redirect_uris[0]", "reverse domain name"},
		{"scheme with an authority", []ClientConfig{app("com.example.miles://callback")}, "clients[0].redirect_uris[0]", "one slash"},
		{"scheme without a path", []ClientConfig{app("com.example.miles:callback")}, "clients[0].redirect_uris[0]", "path after one slash"},
		{"scheme in capitals", []ClientConfig{app("Com.Example.Miles:/callback")}, "clients[0].redirect_uris[0]", "lower case"},
		{"scheme with a fragment", []ClientConfig{app("com.example.miles:/callback#x")}, "clients[0].redirect_uris[0]", "fragment"},
		{"confidential client with a scheme", []ClientConfig{{ID: "c", Secret: "s", RedirectURIs: []string{"com.example.miles:/cb"}}},
			"clients[0].redirect_uris[0]", "public: true"},
		{"localhost without a port", []ClientConfig{app("http://localhost/callback")}, "clients[0].redirect_uris[0]", "http://127.0.0.1/callback"},
		{"post-logout localhost without a port", []ClientConfig{{ID: "a", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}, PostLogoutRedirectURIs: []string{"http://localhost/bye"}}},
			"clients[0].post_logout_redirect_uris[0]", "not localhost"},
		{"another client's scheme", []ClientConfig{app("com.example.miles:/cb"), {ID: "copycat", Public: true, RedirectURIs: []string{"com.example.miles:/cb"}}},
			"clients[1].redirect_uris[0]", "clients[0] (miles-app)"},
		{"another client's loopback", []ClientConfig{app("http://127.0.0.1/cb"), {ID: "copycat", Public: true, RedirectURIs: []string{"https://x.example/cb", "http://127.0.0.1/cb"}}},
			"clients[1].redirect_uris[1]", "belongs to one client"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			c := prodConfig()
			c.Clients = tc.clients
			var ve *ValidationError
			if !errors.As(c.Validate(), &ve) {
				t.Fatal("validated")
			}
			for _, p := range ve.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q in:\n%v", tc.path, tc.msg, ve)
		})
	}
}
