package config

import (
	"errors"
	"strings"
	"testing"
)

var shippedLanguages = Shipped{Languages: []string{"ja", "en", "zh-Hans", "zh-Hant", "ko"}}

// TestValidateUI: ui.languages and the footer links, each problem named
// by its key path; with the shipped languages known, an unknown one is
// named with the list, and a region's spelling with the one to write.
func TestValidateUI(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		shipped Shipped
		path    string
		msg     string
	}{
		{"none", func(c *Config) { c.UI.Languages = nil }, Shipped{}, "ui.languages", "at least one"},
		{"not a tag", func(c *Config) { c.UI.Languages = []string{"ja", "japanese!"} }, Shipped{}, "ui.languages[1]", "not a language tag"},
		{"twice", func(c *Config) { c.UI.Languages = []string{"ja", "en", "ja"} }, Shipped{}, "ui.languages[2]", "listed twice"},
		{"spelling", func(c *Config) { c.UI.Languages = []string{"ja", "zh-hant"} }, Shipped{}, "ui.languages[1]", `as "zh-Hant"`},
		{"not shipped", func(c *Config) { c.UI.Languages = []string{"ja", "fr"} }, shippedLanguages, "ui.languages[1]",
			`no catalog for "fr"; the languages shipped are ja, en, zh-Hans, zh-Hant, ko`},
		{"region of a shipped one", func(c *Config) { c.UI.Languages = []string{"zh-TW", "ja"} }, shippedLanguages, "ui.languages[0]",
			`write "zh-Hant"`},
		{"privacy url", func(c *Config) { c.Brand.PrivacyURL = "javascript:alert(1)" }, Shipped{}, "brand.privacy_url", badURL},
		{"terms url", func(c *Config) { c.Brand.TermsURL = "/terms" }, Shipped{}, "brand.terms_url", badURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prodConfig()
			tc.mutate(&c)
			var ve *ValidationError
			if err := c.ValidateShipped(tc.shipped); !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			for _, p := range ve.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s saying %q in:\n%v", tc.path, tc.msg, ve)
		})
	}
	c := prodConfig()
	c.Brand.PrivacyURL, c.Brand.TermsURL = "https://sora.example/privacy", "https://sora.example/terms"
	if err := c.ValidateShipped(shippedLanguages); err != nil {
		t.Errorf("the default languages and https links: %v", err)
	}
}

// TestUILanguagesFromEnvironment: the one line of configuration a
// language needs can come from the environment too.
func TestUILanguagesFromEnvironment(t *testing.T) {
	c, err := Load("", []string{"TSUBASA_UI_LANGUAGES=en,ko", "TSUBASA_BRAND_PRIVACY_URL=https://sora.example/privacy"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.UI.Languages, ","); got != "en,ko" || c.Brand.PrivacyURL != "https://sora.example/privacy" {
		t.Errorf("ui.languages %q, brand.privacy_url %q from the environment", got, c.Brand.PrivacyURL)
	}
	if got := strings.Join(Default().UI.Languages, ","); got != "ja,en,zh-Hans,zh-Hant,ko" {
		t.Errorf("default ui.languages %q", got)
	}
}
