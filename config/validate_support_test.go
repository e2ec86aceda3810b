package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAdminSupportRules: the support session defaults are on and valid,
// every admin.support setting out of range is reported at its key path,
// all at once.
func TestAdminSupportRules(t *testing.T) {
	if d := Default().Admin.Support; !d.RequireVerifiedSession || d.VerifiedFor != 15*time.Minute || d.MaxAttempts != 5 || d.VerifyPerHour != 10 {
		t.Errorf("defaults = %+v", d)
	}
	c := prodConfig()
	c.Admin.Support = AdminSupportConfig{VerifiedFor: 3 * time.Hour, MaxAttempts: 0, VerifyPerHour: 101}
	var ve *ValidationError
	if !errors.As(c.Validate(), &ve) {
		t.Fatal("out-of-range support settings validated")
	}
	for path, msg := range map[string]string{
		"admin.support.verified_for":    "1m to 2h",
		"admin.support.max_attempts":    "1 to 10",
		"admin.support.verify_per_hour": "1 to 100",
	} {
		if !slices.ContainsFunc(ve.Problems, func(p Problem) bool { return p.Path == path && strings.Contains(p.Message, msg) }) {
			t.Errorf("no problem at %s containing %q in:\n%v", path, msg, ve)
		}
	}
}
