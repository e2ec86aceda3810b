package config

import "time"

// minAuditRetention is the shortest retention that is not 0: what a
// member's login history, a report of a login that was not theirs and an
// incident review read back is a month at least; a shorter value is more
// likely hours meant as days (400h for 400 days) than a policy.
const minAuditRetention = 30 * 24 * time.Hour

// audit checks the audit log's section (types_audit.go).
func (v *checker) audit(a AuditConfig) {
	if a.Retention != 0 && a.Retention < minAuditRetention {
		v.add("audit.retention", "must be 0 (keep every event) or at least 720h, 30 days (got %s)", a.Retention)
	}
}
