package config

import "time"

// DeviceConfig governs the device authorization grant (RFC 8628): screens
// without a keyboard (seat-back screens, kiosks, lounge televisions) show
// a user code that a member enters at /device on a phone.
type DeviceConfig struct {
	// CodeTTL is how long a device_code and its user code live (the
	// answer's expires_in).
	CodeTTL time.Duration `yaml:"code_ttl"`
	// Interval is the least time between two polls of the token endpoint
	// (the answer's interval); each poll sooner gets slow_down and 5 s
	// more (RFC 8628 §3.5).
	Interval time.Duration `yaml:"interval"`
	// MaxEntriesPerAddress and MaxEntriesGlobal bound the user codes
	// entered at /device per client address and in all, in each
	// EntryWindow, right or wrong: guessing a code is bounded by them.
	MaxEntriesPerAddress int           `yaml:"max_entries_per_address"`
	MaxEntriesGlobal     int           `yaml:"max_entries_global"`
	EntryWindow          time.Duration `yaml:"entry_window"`
	// MaxEntriesPerCode is how many times one user code may be entered
	// before it stops being accepted (a code shown to a crowd, or
	// phished).
	MaxEntriesPerCode int `yaml:"max_entries_per_code"`
	// MaxAuthorizationsPerAddress bounds the device authorizations one
	// client address starts in each EntryWindow: each stores a grant, and
	// a public client's id is no secret.
	MaxAuthorizationsPerAddress int `yaml:"max_authorizations_per_address"`
}
