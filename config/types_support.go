package config

import "time"

// AdminSupportConfig is admin.support: the support sessions by which a
// call centre's agent proves that the member is on the line (a code sent
// to the member's verified channel, read back) before changing the
// member's credentials.
type AdminSupportConfig struct {
	// RequireVerifiedSession makes the admin API refuse a temporary
	// password, the removal of passkeys and the reset of one-time
	// password destinations unless the request names a support session
	// verified for that member. On by default: these are exactly what a
	// caller posing as the member asks an agent for.
	RequireVerifiedSession bool `yaml:"require_verified_session"`
	// VerifiedFor is how long a verified session allows those changes.
	VerifiedFor time.Duration `yaml:"verified_for"`
	// MaxAttempts is how many codes an agent may enter in one session.
	MaxAttempts int `yaml:"max_attempts"`
	// VerifyPerHour is how many codes may be entered for one member in an
	// hour, across all sessions and agents.
	VerifyPerHour int `yaml:"verify_per_hour"`
}

// defaultAdminSupport: a verified session lasts a call's length; five
// entries per session and ten per member an hour leave a guesser of a
// six-digit code a chance of 1 in 100,000 an hour.
func defaultAdminSupport() AdminSupportConfig {
	return AdminSupportConfig{RequireVerifiedSession: true, VerifiedFor: 15 * time.Minute, MaxAttempts: 5, VerifyPerHour: 10}
}
