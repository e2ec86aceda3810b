// Package attack is Tsubasa's attack suite: one test per finding of the
// security review and per control named in SECURITY.md, each played the way
// an attacker would play it against the real binary over real HTTP (own
// cookie jars, spoofed headers, replayed tokens and codes, cross-site
// posts). A test here must fail on a server without the control it names.
// SECURITY.md names, for every control, the test that plays its attack;
// most are here.
//
// The server under test is started by the e2e harness (package e2e). The
// scenarios in the package's non-test files (guessing.go, lockout.go,
// passkey_lockout.go, otp_replay.go, tokens.go, logout.go, credentials*.go,
// sms.go, client_removal.go) take the deployment to play against
// (e2e.Deployment): one_server_test.go plays each against one server on a
// bbolt file, under the test names SECURITY.md cites, and the replicas
// suite (../replicas) plays those whose controls storage decides through
// three replicas on PostgreSQL behind a proxy without stickiness, where
// every request of an attack may land on another replica. A scenario
// calls Server.Settle after a revoking act and before checking that what
// it revoked is refused: nothing on one server (the very next request must
// refuse it), storage.postgres.revocation_delay on a cluster. Other
// deployments are built here from the harness: behind a load balancer
// listed in trusted_proxies (clientaddr_test.go), with an https issuer
// behind a TLS-terminating proxy (cookies_test.go, startBehindTLS), and two
// replicas on one database addressed one by one (replicas_test.go).
package attack
