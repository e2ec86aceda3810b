package provider

import (
	"slices"
	"strconv"
	"strings"

	"tsubasa/storage"
)

// redirectRegistered reports whether uri is one of c's redirect URIs
// (RFC 6749 §3.1.2.3, RFC 8252 §7, §8.4): the exact registered string,
// or, for a native app (a public client), a loopback redirect it
// registered without a port (http://127.0.0.1/callback or
// http://[::1]/callback) with any port at request time (RFC 8252 §7.3:
// the app listens on whatever port the system gives it). Everything but
// the port must be the registered string exactly: the same IP literal,
// path and query. A name such as localhost never gets this leeway (§8.3:
// it may resolve elsewhere), nor does a URI registered with a port, nor a
// confidential client's.
//
// It is the one redirect URI check of /authorize and of the stored request
// (CreateAuthRequest); op's own, which runs after it, would otherwise let
// a native client's loopback redirect name any loopback host, localhost
// included, and any port of a URI registered with one.
func redirectRegistered(c storage.Client, uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if !c.Public {
		return false
	}
	for _, reg := range c.RedirectURIs {
		if loopbackWithPort(reg, uri) {
			return true
		}
	}
	return false
}

// loopbackPrefixes are the origins of RFC 8252 §7.3 loopback redirects
// without a port, as they must be registered: http and an IP literal.
var loopbackPrefixes = []string{"http://127.0.0.1", "http://[::1]"}

// AppRedirect reports whether a registered redirect URI belongs to one
// native app: a private-use URI scheme (com.example.miles:/callback) or a
// loopback redirect without a port (http://127.0.0.1/… or http://[::1]/…,
// which matches any port at request time). Config and client add refuse
// one registered for two clients: either app could receive the other's
// codes (RFC 8252 §8.6).
func AppRedirect(registered string) bool {
	if _, ok := loopbackRest(registered); ok {
		return true
	}
	scheme, _, ok := strings.Cut(registered, ":")
	s := strings.ToLower(scheme)
	return ok && scheme != "" && s != "http" && s != "https" && !strings.ContainsAny(scheme, "/?#")
}

// loopbackRest splits a port-less loopback redirect into its prefix's
// remainder (path and query), which must begin with "/".
func loopbackRest(registered string) (string, bool) {
	for _, p := range loopbackPrefixes {
		if rest, ok := strings.CutPrefix(registered, p); ok && strings.HasPrefix(rest, "/") {
			return rest, true
		}
	}
	return "", false
}

// loopbackWithPort reports whether uri is registered (a port-less loopback
// redirect) with a port added: "http://127.0.0.1:" + port + the same path
// and query, character for character.
func loopbackWithPort(registered, uri string) bool {
	rest, ok := loopbackRest(registered)
	if !ok {
		return false
	}
	origin := strings.TrimSuffix(registered, rest)
	port, ok := strings.CutPrefix(uri, origin+":")
	if !ok {
		return false
	}
	port, ok = strings.CutSuffix(port, rest)
	return ok && validPort(port)
}

// validPort is a decimal port from 1 to 65535, digits only.
func validPort(s string) bool {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}
