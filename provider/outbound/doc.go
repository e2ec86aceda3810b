// Package outbound is the HTTP client for requests to addresses that a
// client registered, not the operator: a partner's jwks_uri today, its
// back-channel logout URI and webhooks later. Such an address is chosen by
// whoever registers the client, so without care it turns the provider into
// a proxy into its own network (SSRF): a jwks_uri of
// http://169.254.169.254/ reads the cloud's instance metadata, one of
// http://127.0.0.1:9090/ the management listener.
//
// # What it refuses
//
// Every connection's address is checked when it is made, after name
// resolution, on the address actually dialled: the dialer resolves the
// name itself, drops every address in a special-use range and dials only
// what is left, and its Control hook checks the socket's address again
// just before connect. A name that resolves to a public address when
// checked and to 10.0.0.1 a moment later (DNS rebinding) gains nothing:
// the check and the connection are on the same address. The special-use
// ranges (Refused) are those of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries that are not globally reachable, and the IPv6 ranges
// that embed an IPv4 address (NAT64, 6to4, Teredo), which could reach a
// private IPv4 host through a translator; an IPv4-mapped IPv6 address is
// judged as the IPv4 address it maps.
//
// Proxies from the environment are never used (the check would then judge
// the proxy, not the target) and redirects are not followed (each hop
// would be a new target nobody registered). Every request has a deadline
// (Options.Timeout) and reads at most Options.MaxBytes of the answer.
//
// Options.AllowPrivateNetworks (config outbound.allow_private_networks)
// lifts the address check, for tests and for deployments whose partners
// are on a private network; the deadline, the size limit and the rest stay.
//
// The package imports nothing of Tsubasa's: cmd builds the client from
// config and hands it to the provider.
package outbound
