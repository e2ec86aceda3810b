package config

// LimitsConfig shapes what every per-address rate limit counts a client
// under (the login's per-address window, one-time-password sends, device
// user code entries and device authorizations).
type LimitsConfig struct {
	// IPv6Prefix is the prefix length an IPv6 client is counted under: all
	// the addresses of one network share one count, since a subscriber
	// holds at least a /64 and can rotate through it. IPv4 clients are
	// counted per address. From 48 to 128 (128: per address).
	IPv6Prefix int `yaml:"ipv6_prefix"`
}
