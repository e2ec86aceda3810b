package e2e

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// nativeAppConfig registers the programme's app as RFC 8252 has a native
// app registered: a public client with a private-use scheme in reverse
// domain name form, a claimed https redirect and loopback redirects
// without a port.
const nativeAppConfig = `  - id: miles-app
    public: true
    name: Miles app
    redirect_uris:
      - com.example.miles:/callback
      - https://miles.example.com/app/callback
      - http://127.0.0.1/callback
      - http://[::1]/callback
`

// startNativeApp starts a server whose clients include the app: the base
// config's last section is its client list, which Extra continues.
func startNativeApp(t *testing.T) *Server {
	t.Helper()
	return StartWithMember(t, Options{Extra: nativeAppConfig})
}

// nativeRP is the app: x/oauth2 as a public client (no secret, PKCE S256,
// client_id in the token request) and go-oidc to verify the ID token.
func nativeRP(t *testing.T, s *Server, redirect string) *RP {
	t.Helper()
	rp := NewRP(t, s, "miles-app", "", oidc.ScopeOpenID, "membership")
	rp.OAuth.RedirectURL = redirect
	rp.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return rp
}

// loopbackApp listens as a native app does on a port the system gives it,
// and hands over the first callback it receives.
func loopbackApp(t *testing.T, network, addr string) (redirect string, got <-chan url.Values) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s loopback listener on this machine (%v): the app cannot listen there", network, err)
	}
	ch := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case ch <- r.URL.Query():
		default:
		}
		_, _ = w.Write([]byte("You can close this window and return to the app."))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	host := "127.0.0.1"
	if network == "tcp6" {
		host = "[::1]"
	}
	return "http://" + host + ":" + portOf(ln.Addr()) + "/callback", ch
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// TestNativeAppLogin: the programme's app logs in as RFC 8252 says. On a
// loopback port the system chose (registered without one), by IPv4 and
// IPv6, the browser delivers the code to the app's own listener; with the
// private-use scheme, the redirect names the app's scheme. Each time the
// app redeems the code with its PKCE verifier and no secret, and the ID
// token verifies.
func TestNativeAppLogin(t *testing.T) {
	s := startNativeApp(t)
	for _, tc := range []struct{ name, network, addr string }{
		{"loopback IPv4, random port", "tcp4", "127.0.0.1:0"},
		{"loopback IPv6, random port", "tcp6", "[::1]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redirect, got := loopbackApp(t, tc.network, tc.addr)
			rp := nativeRP(t, s, redirect)
			f := NewFlow()
			b := NewBrowser(t, s)
			p := b.Get(t, rp.AuthURL(f))
			res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
			if res.Status != http.StatusOK || !strings.HasPrefix(res.URL.String(), redirect+"?") {
				t.Fatalf("the browser ended at %s (%d), want the app's %s", res.URL, res.Status, redirect)
			}
			q := <-got
			cb := &url.URL{RawQuery: q.Encode()}
			_, idt := MustExchange(t, rp, f, cb)
			if idt.Subject == "" {
				t.Error("ID token without a subject")
			}
		})
	}
	t.Run("private-use scheme", func(t *testing.T) {
		const redirect = "com.example.miles:/callback"
		rp := nativeRP(t, s, redirect)
		f := NewFlow()
		b := NewBrowser(t, s)
		b.stopAt = redirect // the system hands the URL to the app
		cb := Login(t, b, rp.AuthURL(f), MemberNumber, MemberPass)
		if cb.Scheme != "com.example.miles" || cb.Path != "/callback" {
			t.Fatalf("redirected to %s", cb)
		}
		MustExchange(t, rp, f, cb)
	})
	t.Run("a code for one port is not redeemed for another", func(t *testing.T) {
		redirect, got := loopbackApp(t, "tcp4", "127.0.0.1:0")
		rp := nativeRP(t, s, redirect)
		f := NewFlow()
		b := NewBrowser(t, s)
		p := b.Get(t, rp.AuthURL(f))
		b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
		q := <-got
		rp.OAuth.RedirectURL = "http://127.0.0.1:1/callback"
		if _, _, err := rp.Exchange(t.Context(), f, &url.URL{RawQuery: q.Encode()}); !IsOAuthError(err, "invalid_grant") {
			t.Errorf("code redeemed with another port's redirect_uri: %v", err)
		}
	})
}
