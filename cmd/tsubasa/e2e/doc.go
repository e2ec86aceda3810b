// Package e2e holds Tsubasa's end-to-end suites. They build the real
// binary, start it on a free loopback port with a bbolt file in a temporary
// directory, and drive it over HTTP as relying parties do (coreos/go-oidc and
// golang.org/x/oauth2), through the CLI as operators do, and in Chromium as
// members do. Nothing is mocked.
//
// Browser journeys (browser_*_test.go) save a screenshot of every page
// they pass (`go test -artifacts -outputdir DIR -run Browser`), and each
// hosted page shot is checked for accessibility in the page itself
// (browser_a11y_test.go): language, headings, labels and names, alerts,
// focus rings, contrast, and nothing wider than a 320 px screen.
//
// With Options.Postgres (a database from PostgresURL, one per test from
// the throwaway cluster of storage/postgres/pgtest, stopped when the
// suite ends) a server stores in PostgreSQL instead, with a shared
// secret_file, so several servers on one database are replicas
// (harness_storage.go; ServeFails runs a server that must refuse to start).
//
// StartCluster (cluster.go) starts several replicas on one database behind
// a round-robin reverse proxy of the test's (proxy.go: no stickiness, the
// replicas' one trusted proxy, ReplicaHeader naming the replica of each
// answer) and shows them to the suites as one Server, so every helper
// taking a Server works on a cluster; Settle waits for a change to reach
// every replica (storage.postgres.revocation_delay). A Deployment
// (deploy.go) is how a scenario's server is started, one server or a
// cluster: the attack suite's shared scenarios take one, and the replicas
// suite (replicas/) plays them through three replicas.
//
// The harness (harness.go: Start, Configure, Server, Options; rp.go: RP, Browser,
// Page, Flow; member.go, mail.go; wire.go: WireDo and CheckWire, the one
// header check every OAuth/OIDC answer passes, and CheckErrorFields;
// serving.go: RequireServing after a fault or an attack; keys.go: the
// published keys; telephone.go: the call centre's PIN API; chromium.go:
// a headless Chromium; passkey.go: a software passkey's key; partner.go,
// dpop.go and fapi.go: the client side of private_key_jwt, PAR, request
// objects, DPoP and a FAPI 2.0 partner, written from the RFCs with
// go-jose, since no maintained Go client library does them) is in
// the package's non-test files so that other suites import it: the attack
// suite in attack/ and the certification modules in conformance/ do. Each
// importing package calls Main from its TestMain, which builds the binary
// once for that package.
package e2e
