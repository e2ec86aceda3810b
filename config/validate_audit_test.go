package config

import (
	"errors"
	"testing"
	"time"
)

// TestAuditRules: a retention of 0 (keep forever) or of a month or more
// passes; a shorter or negative one is reported at audit.retention.
func TestAuditRules(t *testing.T) {
	if got := Default().Audit.Retention; got != 400*24*time.Hour {
		t.Errorf("default audit.retention = %s, want 9600h (400 days)", got)
	}
	for name, tt := range map[string]struct {
		retention time.Duration
		bad       bool
	}{
		"the default":             {Default().Audit.Retention, false},
		"0 keeps every event":     {0, false},
		"exactly 30 days":         {720 * time.Hour, false},
		"400 hours meant as days": {400 * time.Hour, true},
		"a day":                   {24 * time.Hour, true},
		"negative":                {-time.Hour, true},
		"ten years":               {10 * 365 * 24 * time.Hour, false},
	} {
		t.Run(name, func(t *testing.T) {
			c := prodConfig()
			c.Audit.Retention = tt.retention
			err := c.Validate()
			if !tt.bad {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a problem at audit.retention", err)
			}
			for _, p := range ve.Problems {
				if p.Path == "audit.retention" && p.Message != "" {
					return
				}
			}
			t.Fatalf("problems %v, want one at audit.retention", ve.Problems)
		})
	}
}
