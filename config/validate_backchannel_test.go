package config

import (
	"errors"
	"strings"
	"testing"
)

// A back-channel logout URI is refused, with its key path, when it is not
// https, when it plainly names a loopback or private address (unless
// outbound.allow_private_networks), and session_required needs one.
func TestBackchannelLogoutURIRules(t *testing.T) {
	tests := []struct {
		name, uri    string
		session      bool
		allowPrivate bool
		want         string // "" for valid
	}{
		{name: "public https", uri: "https://rp.example.com/bcl"},
		{name: "plain http", uri: "http://rp.example.com/bcl", want: "must use https"},
		{name: "loopback", uri: "http://127.0.0.1:9000/bcl", want: "special-use"},
		{name: "localhost", uri: "https://localhost/bcl", want: "special-use"},
		{name: "private", uri: "https://10.0.0.7/bcl", want: "special-use"},
		{name: "metadata", uri: "https://169.254.169.254/latest", want: "special-use"},
		{name: "ipv6 loopback", uri: "https://[::1]/bcl", want: "special-use"},
		{name: "mapped private", uri: "https://[::ffff:192.168.0.1]/bcl", want: "special-use"},
		{name: "loopback allowed", uri: "http://127.0.0.1:9000/bcl", allowPrivate: true},
		{name: "fragment", uri: "https://rp.example.com/bcl#x", want: "without fragment"},
		{name: "session without uri", session: true, want: "needs backchannel_logout_uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Issuer = "https://id.example.com"
			c.Outbound.AllowPrivateNetworks = tt.allowPrivate
			c.Clients = []ClientConfig{{ID: "rp", Secret: "s3cret-s3cret-s3cret-s3cret", RedirectURIs: []string{"https://rp.example.com/cb"},
				BackchannelLogoutURI: tt.uri, BackchannelLogoutSessionRequired: tt.session}}
			var ve *ValidationError
			errors.As(c.Validate(), &ve)
			var got []string
			if ve != nil {
				for _, p := range ve.Problems {
					if strings.HasPrefix(p.Path, "clients[0].backchannel_logout") {
						got = append(got, p.Path+": "+p.Message)
					}
				}
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Fatalf("refused: %v", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Fatalf("problems %v; want one containing %q", got, tt.want)
			}
		})
	}
}
