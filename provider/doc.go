// Package provider is Tsubasa's OpenID Provider: the adapter from storage to
// zitadel/oidc's op.Storage, the client registry, signing keys and their
// rotation, claims and pairwise subjects, and the single-use and rotation
// rules for codes and refresh tokens.
//
// Endpoints (paths relative to the issuer; routes.go says which are op's
// and which Tsubasa's):
//
//	/.well-known/openid-configuration  discovery, built from the tables in metadata.go
//	/keys                              JWKS: active and retired-but-valid keys
//	/authorize                         GET or POST; op's, behind Tsubasa's checks (authorize.go);
//	                                   stores the request, sends the browser to the login UI
//	/authorize/callback?id=            op's callback for a finished request (the login UI answers
//	                                   through AnswerAuthRequest instead, one round trip sooner)
//	/oauth/token                       code (+PKCE), refresh_token (rotating), client_credentials;
//	                                   any other grant_type is refused before op sees it
//	/userinfo                          claims for the access token's scopes, RFC 6750 errors (userinfo.go)
//	/oauth/introspect                  RFC 7662, for the token's own client (introspect.go)
//	/revoke                            RFC 7009; another client's token is left alone, answered 200
//	/end_session                       GET or POST; RP-initiated logout, validated here (endsession.go)
//	                                   and handed to the login UI, which ends the session or asks first
//	/device_authorization              404 (op routes it; the device grant is not offered)
//
// What is supported (response types and modes, grants, client
// authentication methods, subject types, scopes, claims) is a table in
// metadata.go, read by the code that decides and by discovery, so the two
// cannot drift. Every answer of these endpoints gets its headers from one
// layer (wire.go): no-store for token data and errors, no sniffing or
// framing, a Basic challenge on a client authentication failure, a
// description on every error.
//
// What op leaves to Tsubasa and this package does: exact redirect URI
// matching (with RFC 8252's one exception for native apps: a loopback IP
// redirect registered without a port takes any port, redirects.go),
// S256-only PKCE (required for public clients), refusing request
// objects (request and request_uri) and repeated parameters, atomic single
// use of codes, claimed in the commit that stores their tokens (a replay
// revokes what the code minted; a revocation of its session since it was
// issued refuses it), end-session validation (hints from our own keys,
// exact post_logout_redirect_uri, state appended),
// refresh rotation with family revocation on reuse, opaque access tokens
// (self-contained and encrypted, revocable through recorded revocations: no
// write and no signature per token; accesstoken.go), the sid claim, and
// per-client ID token algorithms (RS256 by default, ES256 on request), and
// service scopes (telephone: servicetoken.go), which a member's login never
// grants and whose APIs accept only a client's own client_credentials
// token (ServiceToken).
// prompt, max_age and acr_values are decided by the login UI, which meets this
// package only in storage (the auth request record) and through the
// functions cmd wires: Options.LoginURL and AnswerAuthRequest for logins,
// Options.EndSession and Options.LogoutRefused for logouts.
//
// # Clients
//
// ClientRegistry (clients.go) holds the config file's clients and the
// stored ones, and is the only way stored clients change: the admin
// operations (provider/admin) add, remove and rotate secrets through the
// running provider's registry (Provider.Clients), so a removed client, or
// an old secret, fails from the very next request on. Removal is one
// storage commit (storage.Clients.DeleteClient): the client, its members'
// consents, its stored tokens and the recorded revocation of its
// self-contained access tokens. An access token is checked against its
// client as well as the revocations, so a token whose client is gone never
// works, whoever minted it.
//
// Stored clients are cached in process memory for clientCacheTTL (5 s):
// the token endpoint reads a client on every request. The cache is safe to
// lose, and safe to be stale for that bound only: a change made through
// this process's registry drops the client at once; a change made by
// another process reaches this one within 5 s. Today that other process
// can only be the CLI's direct mode, which runs when no server holds the
// database. With several replicas (the PostgreSQL backend of a later
// issue) it is another replica: that backend must close the window by
// notifying every replica of each client change (LISTEN/NOTIFY on a
// clients channel, each replica forgetting the client named), and until
// it does, the 5 s bound is the documented staleness of a removal or a
// rotation on the other replicas (a token minted there in that window is
// still refused wherever the removal has been seen, since its client is
// gone).
//
// # Where it sits
//
// Sub-packages are the authentication domains, in two layers: the lower
// ones {acr, audit, notify, clientaddr} import only storage (acr and
// clientaddr nothing at all); the upper ones {member, otp, passkey, risk}
// build on storage and the lower ones (otp sends through notify and rates
// with acr, passkey rates with acr, risk records through audit and alerts
// through notify) and never import one another. This package imports none
// of them except acr. provider/admin, the administration operations, sits
// above it: it uses this package and the domains, and only cmd uses it.
// login-ui uses the domains but not this package. cmd/tsubasa/graph_test.go
// enforces every one of these arrows.
package provider
