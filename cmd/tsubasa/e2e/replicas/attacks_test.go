package replicas

import (
	"testing"

	"tsubasa/cmd/tsubasa/e2e/attack"

	"tsubasa/cmd/tsubasa/e2e"
)

// The attack suite's scenarios whose controls storage decides, played
// through three replicas on PostgreSQL behind the proxy: every request of
// an attack may land on another replica than the one before, so a limit,
// a single use or a revocation kept in one process's memory would let it
// through. The same code plays them against one server in
// ../attack/one_server_test.go.

var cluster = e2e.ThreeReplicas

// Limits: member and device lockouts, the per-address window, the
// telephone PIN's lockout, one-time password attempts.
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
func TestAttackPasswordLockoutAgainstPasskeyLoginThroughReplicas(t *testing.T) {
	attack.PasswordLockoutAgainstPasskeyLogin(t, cluster)
}

// Single use: one-time passwords, codes, refresh tokens; revocations.
func TestAttackOTPReplayThroughReplicas(t *testing.T)   { attack.OTPReplay(t, cluster) }
func TestAttackTokenReplayThroughReplicas(t *testing.T) { attack.TokenReplay(t, cluster) }

// Logout: the pending logout request in the server-side session, used
// once; the session's tokens and codes in flight revoked.
func TestAttackKioskLogoutWithoutHintThroughReplicas(t *testing.T) {
	attack.KioskLogoutWithoutHint(t, cluster)
}
func TestAttackLeakedHintEndsAnotherBrowsersSessionThroughReplicas(t *testing.T) {
	attack.LeakedHintEndsAnotherBrowsersSession(t, cluster)
}
func TestAttackCodeRedeemedAfterLogoutThroughReplicas(t *testing.T) {
	attack.CodeRedeemedAfterLogout(t, cluster)
}

// Credentials: the security stamp, sessions and tokens ended with a
// change, a new password stored only after the whole login.
func TestAttackIntruderSessionSurvivesCredentialChangeThroughReplicas(t *testing.T) {
	attack.IntruderSessionSurvivesCredentialChange(t, cluster)
}
func TestAttackNotMeIntruderSetsPasswordThroughReplicas(t *testing.T) {
	attack.NotMeIntruderSetsPassword(t, cluster)
}
func TestAttackLoginBegunBeforeResetOverwritesItThroughReplicas(t *testing.T) {
	attack.LoginBegunBeforeResetOverwritesIt(t, cluster)
}

// The hourly SMS budget, counted in the database for every replica.
func TestSMSPumpingThroughManyAccountsHitsHourlyCeilingThroughReplicas(t *testing.T) {
	attack.SMSPumpingThroughManyAccountsHitsHourlyCeiling(t, cluster)
}

// Clients removed or rotated by the CLI (another process again).
func TestAttackRemovedClientKeepsMintingTokensThroughReplicas(t *testing.T) {
	attack.RemovedClientKeepsMintingTokens(t, cluster)
}
func TestAttackRotatedSecretStillWorksThroughReplicas(t *testing.T) {
	attack.RotatedSecretStillWorks(t, cluster)
}
func TestAttackReaddedClientInheritsConsentThroughReplicas(t *testing.T) {
	attack.ReaddedClientInheritsConsent(t, cluster)
}
