package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const miles = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"

// TestValidateExperience: passkeys.apps, related origins, geoip and
// contacts, each refusal at its key path.
func TestValidateExperience(t *testing.T) {
	good := prodConfig()
	good.Passkeys.Apps = PasskeyAppsConfig{IOS: []string{"ABCDE12345.com.example.miles"},
		Android: []AndroidAppConfig{{Package: "com.example.miles", SHA256CertFingerprints: []string{miles, strings.ToLower(miles)}}}}
	// A programme's two web domains: one passkey on both.
	good.Passkeys.Origins = []string{"https://id.example.com", "https://www.example.co.jp", "https://www.example.com"}
	good.GeoIP = GeoIPConfig{CityDB: "/var/lib/geoip/GeoLite2-City.mmdb", CheckEvery: time.Minute}
	good.Contacts.ConfirmEvery = 8760 * time.Hour
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate:\n%v", err)
	}
	for _, tc := range []struct {
		name, path, msg string
		change          func(*Config)
	}{
		{"ios without team", "passkeys.apps.ios[0]", "team id", func(c *Config) { c.Passkeys.Apps.IOS = []string{"com.example.miles"} }},
		{"ios lower-case team", "passkeys.apps.ios[0]", "team id", func(c *Config) { c.Passkeys.Apps.IOS = []string{"abcde12345.com.example.miles"} }},
		{"android package", "passkeys.apps.android[0].package", "application id", func(c *Config) {
			c.Passkeys.Apps.Android = []AndroidAppConfig{{Package: "miles", SHA256CertFingerprints: []string{miles}}}
		}},
		{"android no fingerprint", "passkeys.apps.android[0].sha256_cert_fingerprints", "at least one", func(c *Config) {
			c.Passkeys.Apps.Android = []AndroidAppConfig{{Package: "com.example.miles"}}
		}},
		{"android SHA-1 fingerprint", "passkeys.apps.android[0].sha256_cert_fingerprints[0]", "32 bytes", func(c *Config) {
			c.Passkeys.Apps.Android = []AndroidAppConfig{{Package: "com.example.miles", SHA256CertFingerprints: []string{miles[:59]}}}
		}},
		{"android fingerprint without colons", "passkeys.apps.android[0].sha256_cert_fingerprints[0]", "colons", func(c *Config) {
			c.Passkeys.Apps.Android = []AndroidAppConfig{{Package: "com.example.miles", SHA256CertFingerprints: []string{strings.ReplaceAll(miles, ":", "")}}}
		}},
		{"origins without the issuer", "passkeys.origins", "https://id.example.com", func(c *Config) {
			c.Passkeys.Origins = []string{"https://www.example.com"}
		}},
		{"six domains", "passkeys.origins", "only 5", func(c *Config) {
			c.Passkeys.Origins = []string{"https://id.example.com", "https://a.one", "https://b.two", "https://c.three", "https://d.four", "https://e.five"}
		}},
		{"geoip interval", "geoip.check_every", "1s", func(c *Config) { c.GeoIP.CheckEvery = 0 }},
		{"geoip path", "geoip.city_db", "spaces", func(c *Config) { c.GeoIP.CityDB = " /x.mmdb" }},
		{"confirm too often", "contacts.confirm_every", "24h", func(c *Config) { c.Contacts.ConfirmEvery = time.Hour }},
		{"confirm negative", "contacts.confirm_every", "negative", func(c *Config) { c.Contacts.ConfirmEvery = -time.Hour }},
		{"test interval", "contacts.test_interval", "positive", func(c *Config) { c.Contacts.TestInterval = 0 }},
		{"tests per day", "contacts.tests_per_day", "from 1 to 100", func(c *Config) { c.Contacts.TestsPerDay = 0 }},
		{"link ttl", "contacts.link_ttl", "10m", func(c *Config) { c.Contacts.LinkTTL = time.Minute }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prodConfig()
			tc.change(&c)
			var ve *ValidationError
			if !errors.As(c.Validate(), &ve) {
				t.Fatal("validated")
			}
			for _, p := range ve.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q in:\n%v", tc.path, tc.msg, ve)
		})
	}
}

// TestEnvListOfSections: TSUBASA_PASSKEYS_APPS_ANDROID sets the whole list
// from YAML or JSON, and an unknown key in it is an error naming it.
func TestEnvListOfSections(t *testing.T) {
	c, err := Load("", []string{`TSUBASA_PASSKEYS_APPS_ANDROID=[{"package": "com.example.miles", "sha256_cert_fingerprints": ["` + miles + `"]}]`})
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Passkeys.Apps.Android; len(a) != 1 || a[0].Package != "com.example.miles" || a[0].SHA256CertFingerprints[0] != miles {
		t.Errorf("android apps from the environment: %+v", a)
	}
	_, err = Load("", []string{"TSUBASA_PASSKEYS_APPS_ANDROID=- package: com.example.miles\n  fingerprints: []\n"})
	if err == nil || !strings.Contains(err.Error(), "fingerprints") || !strings.Contains(err.Error(), "TSUBASA_PASSKEYS_APPS_ANDROID") {
		t.Errorf("unknown key in the list: %v", err)
	}
}
