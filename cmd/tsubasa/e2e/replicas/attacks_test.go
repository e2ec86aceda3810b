package replicas

import (
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/cmd/tsubasa/e2e/attack"
)

// The attack suite's scenarios whose controls storage decides, played
// through three replicas on PostgreSQL behind the proxy: every request of
// an attack may land on another replica than the one before, so a limit,
// a single use or a revocation kept in one process's memory would let it
// through. The same code plays them against one server in
// ../attack/one_server_test.go.
//
// Left to one server, to keep this package within its few minutes: the
// attacks on HTTP itself (cross-site posts, framing, sizes, cookies,
// headers, wire format, discovery), which no replica decides differently;
// the client-address attacks, whose deployment is a load balancer of
// their own; and those whose storage-backed control a test here already
// plays through the cluster: a rotated secret (TestReplicasClientChanges
// ReachEveryReplica), a leaked logout hint and the logout CSRF (TestReplicas
// Logout, KioskLogoutWithoutHint), the password lockout against a passkey
// login (TestReplicasPasskeyLogin, the lockouts below), "this wasn't me"
// before a password is set (LoginBegunBeforeResetOverwritesIt, and the
// case below), and the credential changes other than those below.
//
// Of the partner attacks (../attack/dpop_test.go, partner_test.go,
// fapi_test.go), the replays of what is single use in the database (a
// DPoP proof, a client assertion, a request_uri) run through the cluster
// in TestReplicasPartnerReplaysRefusedOnAnotherReplica; the rest are
// signature, binding and profile checks that each replica makes alone
// from the request and the client's keys. The admin API's attacks stay
// with one server: its callers' tokens and scopes are checked as every
// access token is (TestReplicasRevocationWithinBound), and its writes are
// the storage roles the tests here already play. The contact check's
// link (single use) and test message (the member's limit) run through
// the cluster in TestReplicasContactCheckAcrossReplicas; its forged links
// are refused by their MAC on any replica. The GeoIP, native app and
// passkey offer and origin attacks decide from the request, the config
// or the login request's binding to its browser (stored with the
// request, which every replica reads), the same on every replica.

var cluster = e2e.ThreeReplicas

// Limits: the member's lockout, the per-address window and the telephone
// PIN's lockout whatever headers say; one-time password attempts; the
// known browser's budget in its device record.
func TestAttackBruteForceAcrossAddressesThroughReplicas(t *testing.T) {
	attack.BruteForceAcrossAddresses(t, cluster)
}
func TestAttackOTPBruteForceThroughReplicas(t *testing.T) { attack.OTPBruteForce(t, cluster) }
func TestAttackWrongPasswordsLockMemberOutOfKnownBrowserThroughReplicas(t *testing.T) {
	attack.WrongPasswordsLockMemberOutOfKnownBrowser(t, cluster)
}
func TestAttackKnownBrowserOwnBudgetThroughReplicas(t *testing.T) {
	attack.KnownBrowserOwnBudget(t, cluster)
}

// Single use: one-time passwords (used, replaced, of another purpose,
// expired), codes and refresh tokens; what a replay revokes.
func TestAttackOTPReplayThroughReplicas(t *testing.T)   { attack.OTPReplay(t, cluster) }
func TestAttackTokenReplayThroughReplicas(t *testing.T) { attack.TokenReplay(t, cluster) }

// Logout: the pending logout request in the server-side session, used
// once; codes in flight revoked with the session.
func TestAttackKioskLogoutWithoutHintThroughReplicas(t *testing.T) {
	attack.KioskLogoutWithoutHint(t, cluster)
}
func TestAttackCodeRedeemedAfterLogoutThroughReplicas(t *testing.T) {
	attack.CodeRedeemedAfterLogout(t, cluster)
}

// Credentials: the security stamp, and the sessions and tokens a change
// ends, made on one replica (or by the CLI) and enforced on the others; a
// new password held in the server-side session until the whole login.
func TestAttackIntruderSessionSurvivesCredentialChangeThroughReplicas(t *testing.T) {
	attack.IntruderSessionSurvivesCredentialChange(t, cluster, "password change", "this wasn't me", "operator set-password")
}
func TestAttackLoginBegunBeforeResetOverwritesItThroughReplicas(t *testing.T) {
	attack.LoginBegunBeforeResetOverwritesIt(t, cluster)
}

// The hourly SMS budget, counted in the database for every replica.
func TestSMSPumpingThroughManyAccountsHitsHourlyCeilingThroughReplicas(t *testing.T) {
	attack.SMSPumpingThroughManyAccountsHitsHourlyCeiling(t, cluster)
}

// Clients removed by the CLI (another process again): their tokens, and
// their members' consents.
func TestAttackRemovedClientKeepsMintingTokensThroughReplicas(t *testing.T) {
	attack.RemovedClientKeepsMintingTokens(t, cluster)
}
func TestAttackReaddedClientInheritsConsentThroughReplicas(t *testing.T) {
	attack.ReaddedClientInheritsConsent(t, cluster)
}
