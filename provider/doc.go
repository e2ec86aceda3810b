// Package provider is Tsubasa's OpenID Provider: the adapter from storage to
// zitadel/oidc's op.Storage, the client registry, signing keys and their
// rotation, claims and pairwise subjects, and the single-use and rotation
// rules for codes and refresh tokens.
//
// Endpoints (served by op, paths relative to the issuer):
//
//	/.well-known/openid-configuration  discovery
//	/keys                              JWKS: active and retired-but-valid keys
//	/authorize                         GET or POST; stores the request, sends the browser to the login UI
//	/authorize/callback?id=            op's callback for a finished request (the login UI answers
//	                                   through AnswerAuthRequest instead, one round trip sooner)
//	/oauth/token                       code (+PKCE), refresh_token (rotating), client_credentials
//	/userinfo                          claims for the access token's scopes
//	/oauth/introspect                  RFC 7662, for the token's own client
//	/revoke                            RFC 7009
//	/end_session                       GET or POST; RP-initiated logout, validated here (endsession.go)
//	                                   and handed to the login UI, which ends the session or asks first
//
// What op leaves to Tsubasa and this package does: exact redirect URI
// matching, S256-only PKCE (required for public clients), refusing request
// objects, atomic single use of codes, claimed in the commit that stores
// their tokens (a replay revokes what the code minted; a revocation of its
// session since it was issued refuses it), end-session validation (hints
// from our own keys, exact post_logout_redirect_uri, state appended),
// refresh rotation with family revocation on reuse, opaque access tokens
// (self-contained and encrypted, revocable through recorded revocations: no
// write and no signature per token; accesstoken.go), the sid claim, and
// per-client ID token algorithms (RS256 by default, ES256 on request).
// prompt, max_age and acr_values are decided by the login UI, which meets this
// package only in storage (the auth request record) and through the
// functions cmd wires: Options.LoginURL and AnswerAuthRequest for logins,
// Options.EndSession and Options.LogoutRefused for logouts.
//
// Sub-packages are the authentication domain (member, otp, passkey, risk,
// notify, acr …); this package imports none of them except acr.
package provider
