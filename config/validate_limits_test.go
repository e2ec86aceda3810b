package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLimitsRules: limits.ipv6_prefix defaults to 64, is read from YAML
// and TSUBASA_LIMITS_IPV6_PREFIX, and outside 48..128 is reported at its
// key path.
func TestLimitsRules(t *testing.T) {
	if got := Default().Limits.IPv6Prefix; got != 64 {
		t.Errorf("default limits.ipv6_prefix = %d, want 64", got)
	}
	c, err := loadYAML(t, "limits: {ipv6_prefix: 56}\n")
	if err != nil || c.Limits.IPv6Prefix != 56 {
		t.Errorf("from YAML: %d, %v; want 56", c.Limits.IPv6Prefix, err)
	}
	c, err = Load("", []string{"TSUBASA_LIMITS_IPV6_PREFIX=128"})
	if err != nil || c.Limits.IPv6Prefix != 128 {
		t.Errorf("from the environment: %d, %v; want 128", c.Limits.IPv6Prefix, err)
	}
	for _, n := range []int{0, 32, 47, 129} {
		c := prodConfig()
		c.Limits.IPv6Prefix = n
		var ve *ValidationError
		if err := c.Validate(); !errors.As(err, &ve) || !hasProblem(ve, "limits.ipv6_prefix", "from 48 to 128") {
			t.Errorf("ipv6_prefix %d: Validate = %v, want a problem at limits.ipv6_prefix", n, err)
		}
	}
	for _, n := range []int{48, 64, 128} {
		c := prodConfig()
		c.Limits.IPv6Prefix = n
		if err := c.Validate(); err != nil {
			t.Errorf("ipv6_prefix %d: %v", n, err)
		}
	}
}

func hasProblem(ve *ValidationError, path, text string) bool {
	for _, p := range ve.Problems {
		if p.Path == path && strings.Contains(p.Message, text) {
			return true
		}
	}
	return false
}
