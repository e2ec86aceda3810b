// Package replicas holds Tsubasa's end-to-end suites through several
// replicas: three `tsubasa serve` processes on one PostgreSQL database
// (the throwaway cluster of storage/postgres/pgtest), behind a reverse
// proxy in the test (e2e.StartCluster, e2e.Proxy) that sends each request
// to the next replica in turn, with no stickiness, so that consecutive
// requests of one login land on different replicas. The proxy is the
// replicas' one trusted proxy and appends X-Forwarded-For; the issuer is
// its URL. Nothing is mocked. The package has tests only.
//
//   - tests of the flows (code flow with PKCE through coreos/go-oidc and
//     x/oauth2, refresh rotation and reuse, revocation seen by every
//     replica within storage.postgres.revocation_delay, OTP step-up with
//     the resend limits, passkey login, third-party consent, RP-initiated
//     logout, the lockout under twenty concurrent guesses, clients added,
//     rotated and removed by the CLI) and a Chromium journey
//     (TestReplicasBrowserJourney; it skips without Chromium, and fails
//     under TSUBASA_REQUIRE_BROWSER=1);
//   - faults (kill_test.go: SIGKILL one replica under load;
//     outage_test.go: the database away for seconds under load), whose
//     clients are in live_test.go;
//   - stale_test.go: a logout on one replica that another has not heard
//     of yet (its listener held stopped, pgtest.StallListeners): the
//     ended session's code mints nothing there (storage.Fresh);
//   - attacks_test.go: the attack suite's scenarios whose controls
//     storage decides (package attack: limits, single use, revocation,
//     credentials, the SMS budget, client removal), the same code
//     ../attack plays against one server, played through the cluster;
//     partner_test.go and contacts_test.go play the replays and limits
//     of the partner and contact-check attacks the same way (their
//     single-server scenarios are still test files of package attack).
//
// Without PostgreSQL every test skips (pgtest), or fails under
// TSUBASA_REQUIRE_POSTGRES=1.
package replicas
