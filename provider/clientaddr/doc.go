// Package clientaddr owns the one answer to "which address did this request
// come from", and the key per-address limits count it under (LimitKey).
// Every per-address rate limit (the login's per-IP window, the
// one-time-password sends per address, device user code entries and device
// authorizations per address), the login history, the devices page, the
// login alerts and the audit events read it from here, so they all agree.
//
// # Derivation
//
// The answer is the TCP peer, unless the peer is one of the trusted proxies
// (config trusted_proxies). Then the proxy's forwarding header is read from
// the right, one hop at a time: each proxy appends the address it received
// the request from, so the rightmost entry is what the last proxy saw, the
// one before it what the proxy before that saw, and so on. The walk stops at
// the first address that is not a trusted proxy: that is the client. Entries
// further left were written by the client (or by proxies nobody vouches for)
// and are never read; taking the leftmost value would let any client choose
// the address it is counted under.
//
//	peer not trusted                         -> the peer (headers ignored)
//	peer trusted, header empty or absent     -> the peer (a health check, say)
//	rightmost entry untrusted                -> that entry
//	rightmost entries trusted                -> walk on to the left
//	entry malformed, "unknown" or obfuscated -> the last trusted hop reached
//	every entry trusted                      -> the leftmost (all our own proxies)
//
// A malformed entry stops the walk at the last hop that was trusted, never
// at the garbage: the request came through that proxy, which is all that is
// known. A client cannot put garbage to the right of what a trusted proxy
// appends, so this only matters for a proxy that writes garbage itself.
//
// # Which header
//
// Exactly one header is read, the one the proxies write (config
// proxy_header): X-Forwarded-For (what AWS, Google Cloud and Azure load
// balancers, nginx, Envoy, Caddy and Go's httputil.ReverseProxy write) or
// Forwarded (RFC 7239). The other is ignored even when present: a proxy that
// writes one header passes the other through from the client untouched, so
// reading it, or letting it win when both are present, would let a client
// choose its address.
//
// X-Forwarded-For entries are an IPv4 or IPv6 address, optionally in
// brackets, optionally with a port ("192.0.2.1:4711", "[2001:db8::1]:4711",
// as some proxies write). Forwarded elements are parsed as RFC 7239 says: the
// for= parameter of each element, a token or a quoted string, holding an
// IPv4 address or a bracketed IPv6 address, each with an optional port. An
// element without for=, with it twice, with a bare IPv6 address, an
// "unknown" or obfuscated ("_hidden") node, or any syntax error is a
// malformed hop. Empty list elements are skipped, as RFC 9110 section 5.6.1
// asks of recipients. IPv4-mapped IPv6 addresses count as their IPv4 form;
// zones are refused in headers and dropped from the peer.
//
// # Limit keys
//
// Every per-address rate limit counts a client under LimitKey of its
// address, never the address itself: an IPv4 address is its own key, but
// an IPv6 client counts under its network (config limits.ipv6_prefix,
// a /64 by default), because one subscriber holds every address of at
// least a /64 and could otherwise spread its guesses over them. Only limit
// keys aggregate; the login history, alerts, devices page, GeoIP, audit
// events and logs keep the full address. A test reads the module's source
// and fails on a throttle caller that is not classified, or a per-address
// one that does not go through LimitKey (limitkey_callers_test.go).
//
// # Use
//
// cmd builds a Resolver from the configuration and wraps the whole handler
// in Resolver.Handler, which derives the address once per request and keeps
// it in the request's context; everything else calls From. Without the
// middleware (unit tests of other packages), From answers with the peer.
package clientaddr
