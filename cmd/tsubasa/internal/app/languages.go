package app

import (
	"slices"

	"tsubasa/config"
	loginui "tsubasa/login-ui"
	"tsubasa/provider/notify"
)

// Shipped is what the configuration may name of this binary: the languages
// that have both the pages' catalogs (login-ui/locales/<tag>/) and the
// mail's (provider/notify/locales/<tag>.json). The CLI validates the
// configuration against it, so ui.languages naming another is a config
// error with its key path, not a start-up failure.
func Shipped() config.Shipped {
	var langs []string
	for _, l := range loginui.Shipped() {
		if slices.Contains(notify.Languages(), l) {
			langs = append(langs, l)
		}
	}
	// In the default's order (the menu's), then any other.
	def := config.Default().UI.Languages
	rank := func(l string) int {
		if i := slices.Index(def, l); i >= 0 {
			return i
		}
		return len(def)
	}
	slices.SortStableFunc(langs, func(a, b string) int { return rank(a) - rank(b) })
	return config.Shipped{Languages: langs}
}
