package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary YAML and environments to Load, which must never
// panic or hang; whatever it accepts must survive the methods consumers call.
// The seeds under testdata/fuzz/FuzzLoad run as a normal test.
func FuzzLoad(f *testing.F) {
	if example, err := os.ReadFile(examplePath); err == nil {
		f.Add(example, "TSUBASA_OTP_FORMATS_LOGIN=pictogram")
	}
	f.Fuzz(func(t *testing.T, doc []byte, env string) {
		p := filepath.Join(t.TempDir(), "tsubasa.yaml")
		if err := os.WriteFile(p, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, strings.Split(env, "\n"))
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		_ = c.Validate()
		_, _ = c.PINCutover()
		_, _ = c.PasskeyRPID(), c.PasskeyOrigins()
		_ = c.Redacted()
		_ = c.LogValue().Resolve()
		DevDefaults(&c)
	})
}
