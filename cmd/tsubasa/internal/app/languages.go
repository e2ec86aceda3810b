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
	return config.Shipped{Languages: langs}
}
