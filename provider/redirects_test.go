package provider

import (
	"testing"

	"tsubasa/storage"
)

// TestRedirectRegistered: RFC 8252's rules for native apps on top of exact
// matching. A port-less loopback IP redirect of a public client matches
// any port with the same path and query, and nothing else does.
func TestRedirectRegistered(t *testing.T) {
	app := storage.Client{ID: "miles-app", Public: true, RedirectURIs: []string{
		"com.example.miles:/callback",
		"https://miles.example.com/app/callback",
		"http://127.0.0.1/callback",
		"http://[::1]/oauth?x=1",
		"http://127.0.0.1:7000/fixed",
	}}
	web := storage.Client{ID: "web", RedirectURIs: []string{"https://web.example/cb", "http://127.0.0.1/callback"}}
	for _, tc := range []struct {
		name string
		c    storage.Client
		uri  string
		want bool
	}{
		{"private-use scheme, exact", app, "com.example.miles:/callback", true},
		{"private-use scheme, other path", app, "com.example.miles:/callback2", false},
		{"private-use scheme, two slashes", app, "com.example.miles://callback", false},
		{"claimed https, exact", app, "https://miles.example.com/app/callback", true},
		{"claimed https, with a port", app, "https://miles.example.com:8443/app/callback", false},
		{"loopback v4, registered as is", app, "http://127.0.0.1/callback", true},
		{"loopback v4, any port", app, "http://127.0.0.1:49152/callback", true},
		{"loopback v4, port 1", app, "http://127.0.0.1:1/callback", true},
		{"loopback v4, port 65535", app, "http://127.0.0.1:65535/callback", true},
		{"loopback v4, port 0", app, "http://127.0.0.1:0/callback", false},
		{"loopback v4, port 65536", app, "http://127.0.0.1:65536/callback", false},
		{"loopback v4, empty port", app, "http://127.0.0.1:/callback", false},
		{"loopback v4, port with a sign", app, "http://127.0.0.1:+80/callback", false},
		{"loopback v4, other path", app, "http://127.0.0.1:49152/callback/x", false},
		{"loopback v4, path prefix", app, "http://127.0.0.1:49152/call", false},
		{"loopback v4, trailing slash", app, "http://127.0.0.1:49152/callback/", false},
		{"loopback v4, query added", app, "http://127.0.0.1:49152/callback?a=b", false},
		{"loopback v4, fragment", app, "http://127.0.0.1:49152/callback#x", false},
		{"loopback v4, https", app, "https://127.0.0.1:49152/callback", false},
		{"loopback v4, localhost instead", app, "http://localhost:49152/callback", false},
		{"loopback v4, localhost without port", app, "http://localhost/callback", false},
		{"loopback v4, another loopback address", app, "http://127.0.0.2:49152/callback", false},
		{"loopback v4, as v6", app, "http://[::1]:49152/callback", false},
		{"loopback v4, userinfo", app, "http://127.0.0.1:49152@evil.example/callback", false},
		{"loopback v4, port then host", app, "http://127.0.0.1:80.evil.example/callback", false},
		{"loopback v6 with query, any port", app, "http://[::1]:5000/oauth?x=1", true},
		{"loopback v6, query changed", app, "http://[::1]:5000/oauth?x=2", false},
		{"loopback v6, query dropped", app, "http://[::1]:5000/oauth", false},
		{"loopback registered with a port: exact only", app, "http://127.0.0.1:7000/fixed", true},
		{"loopback registered with a port: another port", app, "http://127.0.0.1:7001/fixed", false},
		{"confidential client: exact only", web, "http://127.0.0.1/callback", true},
		{"confidential client: no port leeway", web, "http://127.0.0.1:49152/callback", false},
		{"another client's URI", web, "com.example.miles:/callback", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redirectRegistered(tc.c, tc.uri); got != tc.want {
				t.Errorf("redirectRegistered(%s, %q) = %v, want %v", tc.c.ID, tc.uri, got, tc.want)
			}
		})
	}
}
