// Package attack is Tsubasa's attack suite: one test per finding of the
// security review and per control named in SECURITY.md, each played the way
// an attacker would play it against the real binary over real HTTP (own
// cookie jars, spoofed headers, replayed tokens and codes, cross-site
// posts). A test here must fail on a server without the control it names.
// SECURITY.md names, for every control, the test that plays its attack;
// most are here.
//
// The server under test is started by the e2e harness (package e2e), so the
// same suite can later run against other deployments of it (several
// replicas behind a proxy) by changing only how the harness starts it. Two
// deployments are built here from the harness: behind a load balancer
// listed in trusted_proxies (clientaddr_test.go), and with an https issuer
// behind a TLS-terminating proxy (cookies_test.go, startBehindTLS).
package attack
