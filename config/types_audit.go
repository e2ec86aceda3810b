package config

import "time"

// AuditConfig governs the audit log (provider/audit): what the member's
// login history, the admin API's events and the webhooks read.
type AuditConfig struct {
	// Retention is how long an event is kept; the janitor deletes older
	// ones, but for the erasure tombstones (member.erased), which prove
	// an erasure and hold no personal data. 0 keeps every event forever.
	Retention time.Duration `yaml:"retention"`
}
