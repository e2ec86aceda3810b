package app

import (
	"slices"
	"testing"

	"tsubasa/config"
	loginui "tsubasa/login-ui"
	"tsubasa/provider/notify"
)

// TestShippedLanguages: a language ships whole, pages and mail, and the
// default configuration offers every one. A folder of page catalogs
// without its mail catalog (or the other way round), or a new language
// left out of ui.languages' default, fails here with what to add.
func TestShippedLanguages(t *testing.T) {
	pages, mail := loginui.Shipped(), notify.Languages()
	for _, l := range pages {
		if !slices.Contains(mail, l) {
			t.Errorf("%s has page catalogs but no mail catalog: add provider/notify/locales/%s.json", l, l)
		}
	}
	for _, l := range mail {
		if !slices.Contains(pages, l) {
			t.Errorf("%s has a mail catalog but no page catalogs: add login-ui/locales/%s/", l, l)
		}
	}
	def := config.Default().UI.Languages
	for _, l := range Shipped().Languages {
		if !slices.Contains(def, l) {
			t.Errorf("%s ships but is not in ui.languages' default (config/defaults.go, config.example.yaml)", l)
		}
	}
	if def[0] != "ja" {
		t.Errorf("the default fallback language is %s, want ja", def[0])
	}
	if err := config.Default().ValidateShipped(Shipped()); err != nil {
		if ve, ok := err.(*config.ValidationError); ok {
			for _, p := range ve.Problems {
				if p.Path == "ui.languages" || len(p.Path) > 12 && p.Path[:13] == "ui.languages[" {
					t.Errorf("default: %s", p)
				}
			}
		}
	}
}
