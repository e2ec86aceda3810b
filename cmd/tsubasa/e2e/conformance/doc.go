// Package conformance plays the OpenID Foundation's certification test
// plans for a Basic OP and a Config OP against the real binary: one
// subtest of TestOIDCC per test module, named by the module's id
// (oidcc-server, oidcc-prompt-none-logged-in, …), so that
//
//	go test -run 'TestOIDCC/oidcc-codereuse$' ./cmd/tsubasa/e2e/conformance/
//
// runs one module. The MUSTs no module plays (a parameter given twice,
// which errors are redirected, code binding, token endpoint errors,
// revocation, introspection) follow as subtests named by their clause
// (clauses_test.go). README.md ("Conformance") has the table of modules
// and the tests that cover them.
//
// The relying party here is written from the specifications on net/http
// and go-jose, not a client library: a library forgives (a missing
// token_type, an error description with a quote, an ID token whose azp it
// does not read), and a relying party written by someone else may not.
// Every answer of an OAuth/OIDC endpoint passes e2e.CheckWire, every
// OAuth error, in a JSON body or in a redirect, e2e.CheckErrorFields, and
// every hosted page the checks of framing, referrer and caching. ID
// tokens are checked against the key set clause by clause (OpenID Connect
// Core 1.0 §3.1.3.7): signature by the key its kid names with the
// algorithm the client registered, iss, aud, azp, exp, iat, nonce,
// auth_time, acr, at_hash and c_hash, and a sub that stays the same.
//
// One server serves every module (starting one costs more than most
// modules); each module uses browsers of its own (cookie jars), so that
// no module depends on another's session.
//
// The RP-initiated logout plan (oidcc-rp-initiated-logout*) is played by
// TestRPInitiatedLogout in package e2e (logout_test.go), one subtest per
// module; back-channel logout is not implemented yet.
package conformance
