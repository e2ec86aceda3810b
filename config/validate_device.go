package config

import "time"

// device checks the device grant's section (types_device.go).
func (v *checker) device(d DeviceConfig) {
	if d.CodeTTL < time.Minute || d.CodeTTL > 30*time.Minute {
		v.add("device.code_ttl", "must be from 1m to 30m (got %s)", d.CodeTTL)
	}
	if d.Interval < time.Second || d.Interval > time.Minute || d.Interval%time.Second != 0 {
		// The answer's interval is whole seconds (RFC 8628 §3.2).
		v.add("device.interval", "must be whole seconds from 1s to 1m (got %s)", d.Interval)
	}
	if d.MaxEntriesPerAddress < 1 {
		v.add("device.max_entries_per_address", "must be at least 1 (got %d)", d.MaxEntriesPerAddress)
	}
	if d.MaxEntriesGlobal < d.MaxEntriesPerAddress {
		v.add("device.max_entries_global", "must be at least device.max_entries_per_address (got %d)", d.MaxEntriesGlobal)
	}
	if d.EntryWindow < time.Minute || d.EntryWindow > 24*time.Hour {
		v.add("device.entry_window", "must be from 1m to 24h (got %s)", d.EntryWindow)
	}
	if d.MaxAuthorizationsPerAddress < 1 {
		v.add("device.max_authorizations_per_address", "must be at least 1 (got %d)", d.MaxAuthorizationsPerAddress)
	}
	if d.MaxEntriesPerCode < 1 || d.MaxEntriesPerCode > 20 {
		v.add("device.max_entries_per_code", "must be from 1 to 20 (got %d)", d.MaxEntriesPerCode)
	}
}
