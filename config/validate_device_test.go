package config

import (
	"errors"
	"testing"
	"time"
)

// TestDeviceRules: each device setting out of range is reported at its own
// key path; a public client may hold the device grant; the defaults pass.
func TestDeviceRules(t *testing.T) {
	for name, tt := range map[string]struct {
		change func(*Config)
		path   string // "" = valid
	}{
		"defaults": {func(*Config) {}, ""},
		"a public client with the device grant": {func(c *Config) {
			c.Clients = []ClientConfig{{ID: "tv", Public: true, GrantTypes: []string{GrantDeviceCode, GrantRefreshToken}}}
		}, ""},
		"an unknown grant": {func(c *Config) {
			c.Clients = []ClientConfig{{ID: "tv", Public: true, GrantTypes: []string{"device_code"}}}
		}, "clients[0].grant_types[0]"},
		"a code ttl too short":     {func(c *Config) { c.Device.CodeTTL = 30 * time.Second }, "device.code_ttl"},
		"a code ttl too long":      {func(c *Config) { c.Device.CodeTTL = time.Hour }, "device.code_ttl"},
		"an interval of 0":         {func(c *Config) { c.Device.Interval = 0 }, "device.interval"},
		"a fractional interval":    {func(c *Config) { c.Device.Interval = 1500 * time.Millisecond }, "device.interval"},
		"no entries per address":   {func(c *Config) { c.Device.MaxEntriesPerAddress = 0 }, "device.max_entries_per_address"},
		"global below per address": {func(c *Config) { c.Device.MaxEntriesGlobal = 5 }, "device.max_entries_global"},
		"a window of a second":     {func(c *Config) { c.Device.EntryWindow = time.Second }, "device.entry_window"},
		"no entries per code":      {func(c *Config) { c.Device.MaxEntriesPerCode = 0 }, "device.max_entries_per_code"},
		"no authorizations":        {func(c *Config) { c.Device.MaxAuthorizationsPerAddress = 0 }, "device.max_authorizations_per_address"},
	} {
		t.Run(name, func(t *testing.T) {
			c := prodConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a problem at %s", err, tt.path)
			}
			for _, p := range ve.Problems {
				if p.Path == tt.path && p.Message != "" {
					return
				}
			}
			t.Fatalf("problems %v, want one at %s", ve.Problems, tt.path)
		})
	}
}
