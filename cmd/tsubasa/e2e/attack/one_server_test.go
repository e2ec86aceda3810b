package attack

import (
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// The scenarios of the non-test files, each played against one server
// on a bbolt file under its test's name (SECURITY.md names these tests).
// The replicas suite (../replicas) plays those whose controls storage
// decides through three replicas on PostgreSQL.

// guessing.go
func TestAttackBruteForceAcrossAddresses(t *testing.T) { BruteForceAcrossAddresses(t, e2e.OneServer) }
func TestAttackOTPBruteForce(t *testing.T)             { OTPBruteForce(t, e2e.OneServer) }
func TestAttackEnumerationByMessage(t *testing.T)      { EnumerationByMessage(t, e2e.OneServer) }
func TestAttackEnumerationByTiming(t *testing.T)       { EnumerationByTiming(t, e2e.OneServer) }

// lockout.go
func TestAttackWrongPasswordsLockMemberOutOfKnownBrowser(t *testing.T) {
	WrongPasswordsLockMemberOutOfKnownBrowser(t, e2e.OneServer)
}
func TestAttackKnownBrowserOwnBudget(t *testing.T) { KnownBrowserOwnBudget(t, e2e.OneServer) }

// passkey_lockout.go
func TestAttackPasswordLockoutAgainstPasskeyLogin(t *testing.T) {
	PasswordLockoutAgainstPasskeyLogin(t, e2e.OneServer)
}

// otp_replay.go
func TestAttackOTPReplay(t *testing.T) { OTPReplay(t, e2e.OneServer) }

// tokens.go
func TestAttackTokenReplay(t *testing.T) { TokenReplay(t, e2e.OneServer) }

// logout.go
func TestAttackLogoutCSRFCrossSiteLoggedOutPage(t *testing.T) {
	LogoutCSRFCrossSiteLoggedOutPage(t, e2e.OneServer)
}
func TestAttackLogoutCSRFEndSessionWithoutHint(t *testing.T) {
	LogoutCSRFEndSessionWithoutHint(t, e2e.OneServer)
}
func TestAttackLogoutCSRFCrossSitePostOfQuestion(t *testing.T) {
	LogoutCSRFCrossSitePostOfQuestion(t, e2e.OneServer)
}
func TestAttackKioskLogoutWithoutHint(t *testing.T) { KioskLogoutWithoutHint(t, e2e.OneServer) }
func TestAttackLeakedHintEndsAnotherBrowsersSession(t *testing.T) {
	LeakedHintEndsAnotherBrowsersSession(t, e2e.OneServer)
}
func TestAttackCodeRedeemedAfterLogout(t *testing.T) { CodeRedeemedAfterLogout(t, e2e.OneServer) }

// credentials.go
func TestAttackNotMeIntruderSetsPassword(t *testing.T) { NotMeIntruderSetsPassword(t, e2e.OneServer) }
func TestAttackNotMeWithoutContactEndsAtTheDesk(t *testing.T) {
	NotMeWithoutContactEndsAtTheDesk(t, e2e.OneServer)
}
func TestAttackPINHolderSetsWebPassword(t *testing.T) { PINHolderSetsWebPassword(t, e2e.OneServer) }
func TestAttackLoginBegunBeforeResetOverwritesIt(t *testing.T) {
	LoginBegunBeforeResetOverwritesIt(t, e2e.OneServer)
}

// credentials_sessions.go
func TestAttackIntruderSessionSurvivesCredentialChange(t *testing.T) {
	IntruderSessionSurvivesCredentialChange(t, e2e.OneServer)
}
func TestAttackIntruderSessionSurvivesPasskeyRemoval(t *testing.T) {
	IntruderSessionSurvivesPasskeyRemoval(t, e2e.OneServer)
}

// sms.go
func TestSMSTollFraudNumbersOnContactsPage(t *testing.T) {
	SMSTollFraudNumbersOnContactsPage(t, e2e.OneServer)
}
func TestSMSPumpingThroughManyAccountsHitsHourlyCeiling(t *testing.T) {
	SMSPumpingThroughManyAccountsHitsHourlyCeiling(t, e2e.OneServer)
}

// client_removal.go
func TestAttackRemovedClientKeepsMintingTokens(t *testing.T) {
	RemovedClientKeepsMintingTokens(t, e2e.OneServer)
}
func TestAttackRotatedSecretStillWorks(t *testing.T) { RotatedSecretStillWorks(t, e2e.OneServer) }
func TestAttackReaddedClientInheritsConsent(t *testing.T) {
	ReaddedClientInheritsConsent(t, e2e.OneServer)
}
