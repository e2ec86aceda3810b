package config

// limits checks the limits section (types_limits.go). Below a /48 one
// count would be shared by whole ISPs' customers.
func (v *checker) limits(l LimitsConfig) {
	v.between("limits.ipv6_prefix", l.IPv6Prefix, 48, 128)
}
