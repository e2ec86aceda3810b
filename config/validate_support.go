package config

import "time"

// adminSupport checks admin.support.
func (v *checker) adminSupport(s AdminSupportConfig) {
	// Long enough for a call, short enough that a proof given on one call
	// does not cover the next.
	if s.VerifiedFor < time.Minute || s.VerifiedFor > 2*time.Hour {
		v.add("admin.support.verified_for", "must be 1m to 2h")
	}
	v.between("admin.support.max_attempts", s.MaxAttempts, 1, 10)
	v.between("admin.support.verify_per_hour", s.VerifyPerHour, 1, 100)
}
