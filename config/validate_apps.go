package config

import (
	"net/url"
	"strconv"
	"strings"
)

// Redirect URIs of native apps (RFC 8252), beside the web's (redirectURIs):
//
//   - a private-use URI scheme in reverse domain name form, with one slash
//     after it: com.example.miles:/callback (§7.1). A scheme without a dot
//     could be any app's (myapp:) and is refused, and so is an authority
//     (com.example.miles://callback): the scheme has no naming authority.
//     Only a public client may have one: a confidential client's secret
//     cannot be kept in an app.
//   - a loopback redirect registered without a port, which matches any port
//     at request time (§7.3): only the IP literals, http://127.0.0.1/… and
//     http://[::1]/…, never localhost (§8.3: a name may resolve elsewhere,
//     and firewalls treat it apart).
//   - a claimed https redirect, which is a web URL like any other.
//
// An app's redirect URI, private-use or port-less loopback, belongs to one
// client: registered for two, either app could receive the other's codes
// (§8.6), so it is refused for every client after the first.

// clientRedirects checks a client's redirect_uris and
// post_logout_redirect_uris, each by the web's rules or an app's: exact
// strings compared by the provider, so no wildcards and no fragments (RFC
// 6749 section 3.1.2).
func (v *checker) clientRedirects(p string, cl ClientConfig) {
	for _, f := range []struct {
		key  string
		uris []string
	}{{"redirect_uris", cl.RedirectURIs}, {"post_logout_redirect_uris", cl.PostLogoutRedirectURIs}} {
		for i, raw := range f.uris {
			path := p + "." + f.key + "[" + strconv.Itoa(i) + "]"
			switch {
			case strings.Contains(raw, "*"):
				v.add(path, "wildcards are not allowed; list each URI")
			case privateUseScheme(raw):
				v.privateUseRedirect(path, raw, cl.Public)
			case portlessLocalhost(raw):
				v.add(path, "a loopback redirect without a port is a native app's, and must name the loopback address: http://127.0.0.1%s or http://[::1]%s, not localhost (RFC 8252 §8.3)", pathOf(raw), pathOf(raw))
			default:
				v.webURL(path, raw, true)
			}
		}
	}
}

// privateUseScheme reports whether raw has a scheme other than http and
// https (which webURL judges).
func privateUseScheme(raw string) bool {
	scheme, _, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" {
		return false
	}
	s := strings.ToLower(scheme)
	return s != "http" && s != "https" && !strings.ContainsAny(scheme, "/?#")
}

// privateUseRedirect checks a private-use URI scheme redirect.
func (v *checker) privateUseRedirect(path, raw string, public bool) {
	u, err := url.Parse(raw)
	scheme, _, _ := strings.Cut(raw, ":")
	switch {
	case err != nil || u.Scheme == "":
		v.add(path, "must be an absolute URI such as https://app.example.com/callback or com.example.app:/callback")
	case scheme != strings.ToLower(scheme):
		v.add(path, "write the scheme %q in lower case: redirect URIs are compared exactly", scheme)
	case !strings.Contains(scheme, ".") || strings.HasPrefix(scheme, ".") || strings.HasSuffix(scheme, "."):
		v.add(path, "a private-use URI scheme must be a reverse domain name the app's publisher controls, such as com.example.app:/callback (RFC 8252 §7.1); %q could be any app's", scheme)
	case u.Host != "" || u.User != nil || strings.HasPrefix(strings.TrimPrefix(raw, scheme+":"), "//"):
		v.add(path, "a private-use URI scheme has no authority: write %s:/path with one slash (RFC 8252 §7.1)", scheme)
	case u.Opaque != "" || !strings.HasPrefix(u.Path, "/"):
		v.add(path, "must be %s:/path, with a path after one slash (RFC 8252 §7.1)", scheme)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		v.add(path, "must not have a fragment")
	case !public:
		v.add(path, "a private-use URI scheme is a native app's, and native apps are public clients: set public: true (an app cannot keep a secret)")
	}
}

// portlessLocalhost reports whether raw is http(s)://localhost/… without a
// port: a native app's loopback redirect naming the host.
func portlessLocalhost(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") &&
		strings.EqualFold(u.Hostname(), "localhost") && u.Port() == ""
}

// pathOf is raw's path and query, for suggesting the IP literal's form.
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "/callback"
	}
	return u.RequestURI()
}

// appRedirect reports whether raw is a redirect URI that belongs to one app:
// a private-use scheme, or a loopback IP literal without a port.
func appRedirect(raw string) bool {
	if privateUseScheme(raw) {
		return true
	}
	for _, p := range []string{"http://127.0.0.1/", "http://[::1]/"} {
		if strings.HasPrefix(raw, p) {
			return true
		}
	}
	return false
}

// appRedirectsUnique refuses an app's redirect URI registered for a second
// client.
func (v *checker) appRedirectsUnique(cs []ClientConfig) {
	owner := map[string]int{}
	for i, cl := range cs {
		for j, raw := range cl.RedirectURIs {
			if !appRedirect(raw) {
				continue
			}
			first, taken := owner[raw]
			switch {
			case !taken:
				owner[raw] = i
			case first != i:
				v.add("clients["+strconv.Itoa(i)+"].redirect_uris["+strconv.Itoa(j)+"]",
					"%s is already a redirect URI of clients[%d] (%s): an app's redirect URI belongs to one client (RFC 8252 §8.6)", raw, first, cs[first].ID)
			}
		}
	}
}
