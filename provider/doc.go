// Package provider is Tsubasa's OpenID Provider: the adapter from storage to
// zitadel/oidc's op.Storage, the client registry, signing keys and their
// rotation, claims and pairwise subjects, and the single-use and rotation
// rules for codes and refresh tokens.
//
// Endpoints (paths relative to the issuer; routes.go has the table, one
// file per endpoint):
//
//	/.well-known/openid-configuration  discovery, built from the tables in metadata.go
//	/keys                              JWKS: active and retired-but-valid keys
//	/authorize                         GET or POST; op's, behind Tsubasa's checks (authorize.go), after
//	                                   a pushed request (par.go) or a signed request object
//	                                   (requestobject.go) has become its parameters; stores the request,
//	                                   sends the browser to the login UI
//	/authorize/callback?id=            op's callback for a finished request (the login UI answers
//	                                   through AnswerAuthRequest instead, one round trip sooner)
//	/oauth/par                         RFC 9126 pushed authorization requests (par.go)
//	/oauth/token                       code (+PKCE), refresh_token (rotating), client_credentials (token.go),
//	                                   the device_code grant's polls (devicegrant.go)
//	/userinfo                          claims for the access token's scopes, RFC 6750 errors (userinfo.go)
//	/oauth/introspect                  RFC 7662, for the token's own client (introspect.go)
//	/revoke                            RFC 7009; another client's token is left alone, answered 200 (revoke.go)
//	/end_session                       GET or POST; RP-initiated logout, validated here (endsession.go)
//	                                   and handed to the login UI, which ends the session or asks first
//	/device_authorization              RFC 8628 device authorization (device.go): a device_code and a
//	                                   user code for the login UI's /device page
//
// Every client authentication, at the token, pushed request, revocation
// and introspection endpoints, is one function (clientauth.go):
// client_secret_basic, client_secret_post, none, and private_key_jwt
// (clientassertion.go: RFC 7523, its jti kept by the replay check of
// replay.go), each client by the one method it registered.
// Every authorization response, code or error, carries iss (RFC 9207:
// iss.go).
//
// # How Tsubasa extends op
//
// op (zitadel/oidc) offers two ways in. Its legacy Provider is a router
// over op.Storage; its Server interface (ExtendedLegacyServer embedding
// LegacyServer) lets an implementation replace one endpoint method at a
// time. Tsubasa keeps the legacy Provider, as the design notes ask, and
// takes over the HTTP endpoints themselves: each is Tsubasa's handler, one
// file, in the table of routes.go, and calls op's exported building blocks
// (op.Authorize with Tsubasa's AuthorizeValidator, op.CreateTokenResponse,
// op.AuthResponse, op.AuthorizeCallback) for what op does well: decoding
// an authorization request, minting and signing tokens, encrypting codes,
// building redirects. The Server interface was read and not taken:
//
//   - it is experimental until op's v4;
//   - its HTTP layer answers an error of every check after
//     VerifyAuthRequest (prompt, scopes, the redirect URI's scheme, the
//     response type) as JSON instead of at the redirect URI (RFC 6749
//     §4.1.2.1), answers invalid_client with 400, and writes the text of
//     any error that is not an OAuth error into the response: each would
//     need correcting again, which is what this move does away with;
//   - what this issue adds is mostly outside it: the pushed authorization
//     request endpoint has no method (it would be a route added beside the
//     Server, as here), DPoP needs the request at the resource endpoints
//     Tsubasa already serves (userinfo, introspection), and its token
//     dispatch is a fixed switch too.
//
// So the extension points are Tsubasa's own, and each later part of the
// partner issue is one file or one package beside the others:
//
//   - a new endpoint (the device authorization endpoint) is one handler
//     and one line in routes.go's table (and its wire class);
//   - a new grant (the device code) is one entry in grantTypes
//     (metadata.go) and one handler in token.go's grants table; its
//     request type implements grant (tokens.go), which is how the token
//     and ID token code learn the member, session and acr, so no type
//     switch can drop a grant it does not know (a request that is not a
//     grant is refused with a server error, never minted without claims);
//   - a new client authentication method is one case in clientauth.go and
//     the tables of metadata.go;
//   - a sender-constrained token (DPoP) is one check in serveToken
//     between client authentication and the grant handler
//     (requestProof, dpoptoken.go), and one at the resource endpoints
//     (ResourceToken, dpopresource.go: userinfo and, through cmd, the
//     telephone API), all Tsubasa's;
//   - a new request source at /authorize is one case in resolveRequest
//     (authorize.go), like pushed requests and request objects;
//   - outgoing requests to addresses a client registered (jwks_uri,
//     back-channel logout; later webhooks) go through provider/outbound,
//     which refuses special-use addresses on the address it dials;
//   - back-channel logout (OpenID Connect Back-Channel Logout 1.0,
//     backchannel.go): SaveAuthCode records on the browser session
//     (storage.Session.Clients) each client given a code from it, before
//     the code leaves (a session the login UI read in the same HTTP
//     request and that lists the client already is not read again:
//     storage.HandedSessionClients), then marks the request and stores the code
//     in one commit (storage.AuthRequests.IssueAuthCode); whoever ends sessions queues one outbox message
//     per session and client first (notify.Logouts), and the outbox
//     worker calls SendBackchannelLogout, which signs a logout+jwt token
//     (iss, aud, iat, exp of 2 minutes, a fresh jti, the event, sid and
//     the sub the client knows, never nonce) with the key of the client's
//     ID token algorithm at each try and POSTs it through outbound. ID
//     tokens always carry sid, so backchannel_logout_session_required is
//     always met;
//   - Security Event Tokens for the Shared Signals streams (set.go):
//     provider/ssf decides what a SET says; this package names the
//     member as the stream's client knows them (SETSubject: pairwise for
//     a third party, as in its ID tokens) and signs the SET with the
//     current key of the default algorithm, typ secevent+jwt (SignSET),
//     so a receiver verifies it against the JWKS (JWKSURI).
//
// What op still answers itself is /keys by methods other than GET and
// HEAD; its token, revocation, introspection, userinfo, end-session and
// device endpoints are never reached. The wrappers that corrected or
// steered op's token, revocation and introspection answers (an error
// description added after the fact, the Basic challenge, the grant gate,
// the method gate, the client context) are gone with those endpoints.
// Two remain outside this package, both at /authorize: cmd's error page
// for op's plain 400, and the login UI's SSO answer, which holds back
// op's redirect to the login page.
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
// S256-only PKCE (required for public clients), request objects
// verified against the client's keys (unsigned ones, and those of clients
// without keys, refused; a request_uri never fetched), pushed requests
// claimed once by their own client, refusing repeated parameters, atomic
// single use of codes, claimed in the commit that stores their tokens (a replay
// revokes what the code minted; a revocation of its session since it was
// issued, or a credential change, refuses it, read from the database past
// any cache of a replica that has not heard of it yet: fresh.go; a code
// carries its request inside op's encryption, so the exchange reads
// nothing and its claim makes those checks in its own commit:
// codeseal.go), end-session validation (hints from our own keys,
// exact post_logout_redirect_uri, state appended),
// refresh rotation with family revocation on reuse (the value carries its
// grant sealed, so a rotation is decided by its one statement without a
// read first: refreshseal.go), opaque access tokens
// (self-contained and encrypted, revocable through recorded revocations: no
// write and no signature per token; accesstoken.go), the sid claim, and
// per-client ID token algorithms (RS256 by default, ES256 or PS256 on
// request, each algorithm with a key of its own), and
// service scopes (telephone: servicetoken.go), which a member's login never
// grants and whose APIs accept only a client's own client_credentials
// token (ServiceToken).
// prompt, max_age and acr_values are decided by the login UI, which meets this
// package only in storage (the auth request record) and through the
// functions cmd wires: Options.LoginURL and AnswerAuthRequest for logins,
// Options.EndSession and Options.LogoutRefused for logouts.
//
// # The device grant (RFC 8628)
//
// device.go answers the device authorization endpoint: a client holding
// the grant (public ones too) gets a device_code (its HMAC stored) and a
// user code of 8 letters from an unambiguous alphabet (its HMAC stored,
// storage.DeviceGrants). The login UI's /device page reads what the member
// types through DeviceUserCode (cmd wires it; the HMAC key stays here),
// runs the whole login and the consent for the device's client, and
// records the member's answer on the grant. devicegrant.go answers the
// device's polls at the token endpoint, each one storage update (interval
// and slow_down, the answer, single use: nothing of it in process memory),
// and mints from the approval as from a code's authorization request
// (authRequest implements grant), so the ID token has the member's claims
// and offline_access gives a refresh token.
//
// # DPoP, FAPI 2.0, the claims parameter
//
// DPoP (RFC 9449): dpop.go checks a proof on its own, dpopnonce.go makes
// and checks server nonces (stateless: an HMAC of the time, good on every
// replica), dpoptoken.go binds what the token endpoint mints, and
// dpopresource.go checks a bound token where it is used. An access token
// carries its key's thumbprint inside its encryption (accesstoken.go);
// a public client's refresh token is bound to the key too (§5), a
// confidential client's is not (its authentication binds it, and it may
// move to a new key at a refresh); a code is bound by dpop_jkt or by a
// proof at the pushed request endpoint (§10). A bound token is refused
// as a Bearer token anywhere.
//
// The FAPI 2.0 Security Profile is a per-client switch (Profile "fapi2",
// fapi.go): pushed requests, PKCE, a proof at every token request,
// ES256 or PS256 only, codes of at most 60 s, and refresh tokens that are
// not rotated (bound to the client's private_key_jwt authentication,
// FAPI 2.0 §5.3.2.1); config refuses a public fapi2 client, one not on
// private_key_jwt, and RS256 ID tokens for it.
//
// The claims parameter (OpenID Connect Core 1.0 §5.5, requestextras.go)
// moves claims the granted scopes release into the ID token and makes an
// essential acr a requirement of the login; it never releases a claim no
// granted scope does (consent is by scope). With acr and auth_time in
// introspection (and in the access token's own claims), a resource server
// can answer insufficient_user_authentication (RFC 9470) and the app come
// back with acr_values and max_age.
//
// # What is kept in process memory
//
// The replay check of client assertions and DPoP proofs (replay.go) is
// in the store on PostgreSQL (one atomic statement, every replica sees
// it) and in this process's memory on bbolt, where one process holds the
// file: a durable use is a commit and an fsync per request, which held
// private_key_jwt's client credentials to about a sixth of a secret
// client's rate (README "Load testing"). A restart forgets the memory and
// loses nothing: the process puts each second it takes credentials in on
// record in the store (one write a second), and a process starting
// refuses, from memory, whatever is dated at or before the last second
// on record; credentials dated ahead of the clock, without iat, or met
// while the memory is full go to the store as before, and the memory
// path reads the store for them. replay.go has the argument.
//
// A code carrying its request (codeseal.go) keeps nothing in memory: the
// sealer that makes it lives in the one HTTP request that stores it, and
// what the exchange decides from the code alone (client, redirect URI,
// verifier, binding) never changes after the code is stored; whether the
// code is live, and the fresh checks, are the claim's, in the database.
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
// Stored clients are cached in process memory: the token endpoint reads a
// client on every request. The cache is safe to lose, and never answers
// with a client changed elsewhere once the store has said so: a change
// made through this process's registry drops the client at once; a change
// made by another process (another replica, the command line's direct
// mode) drops it when the store notifies it (storage.ChangeNotifier:
// storage/bolt before the write returns, storage/postgres through its
// LISTEN/NOTIFY feed, in milliseconds), and the cache answers only while
// the store vouches that every change committed more than its bound ago
// has been notified (ChangesCurrent; storage/postgres: RevocationDelay,
// 1 s by default), reading the store otherwise. So a removed client or a
// rotated secret fails on every replica from the notification on, and
// within RevocationDelay in any case. An entry is read again after
// clientCacheTTL (5 s) too, the only bound for a store that cannot notify.
// A token minted on a replica that had not heard of a removal yet is
// still refused wherever the removal has been heard, since its client is
// gone.
//
// Clients' public keys (jwks inline or at a jwks_uri) are cached in
// process memory too (clientkeys.go): a jwks_uri's set for at most 5
// minutes, fetched again sooner when a signature names a key id the set
// lacks (at most every 30 s). Safe to lose; stale for at most that bound
// (a key a partner withdrew verifies that much longer on each replica).
// Whether a pushed request was claimed is decided in storage, never here;
// whether an assertion's jti was used, in storage or (bbolt) in the
// replay check's memory, never in this cache.
//
// # Signing keys
//
// The key ring (keys.go) holds the parsed keys in memory and is a cache of
// the stored ones, kept current on every replica (keyrotation.go): it
// reloads them every 15 s, and at once when the store notifies a key
// change, rebuilding nothing when they are unchanged. A new key is
// published at once and signs only 2 minutes later (SigningKey.ActiveAt),
// once every replica publishes it and every relying party's cached key
// set (max-age 60 s) holds it; its predecessor signs until then and stays
// published for the tokens' lifetime. One replica alone creates the first
// keys of an empty database and one alone rotates each generation: both
// are claimed in storage (storage.SingleUse) with a lease, so a replica
// that dies half-way holds them up for the lease only.

// # Where it sits
//
// Sub-packages are the authentication domains, in two layers: the lower
// ones {acr, audit, notify, clientaddr, outbound} import only storage
// (acr, clientaddr and outbound nothing at all); the upper ones {member,
// otp, passkey, risk} build on storage and the lower ones (otp sends
// through notify and rates with acr, passkey rates with acr, risk records
// through audit and alerts through notify) and never import one another.
// This package imports none of them except the leaves acr, clientaddr,
// outbound and seal (which seals refresh tokens' grants: refreshseal.go).
// provider/admin, the administration operations, sits above it: it uses
// this package and the domains, and only cmd uses it.
// login-ui uses the domains but not this package. cmd/tsubasa/graph_test.go
// enforces every one of these arrows.
package provider
