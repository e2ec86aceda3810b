package config

import (
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// Shipped names what this binary carries that a configuration refers to
// by name. cmd fills it from the packages that own those things (config
// imports none of them); Validate alone, with nothing shipped named,
// checks names for their form only.
type Shipped struct {
	// Languages have catalogs for the pages and the mail: what
	// ui.languages may list.
	Languages []string
}

// ui checks ui.languages: at least one, each a BCP 47 tag written as its
// catalog is named (zh-Hant, not zh-TW or zh-hant), none twice, and each
// shipped when the shipped languages are known.
func (v *checker) ui(u UIConfig) {
	if len(u.Languages) == 0 {
		v.add("ui.languages", "must list at least one language; the first is the fallback")
		return
	}
	for i, l := range u.Languages {
		p := "ui.languages[" + strconv.Itoa(i) + "]"
		tag, err := language.Parse(l)
		switch {
		case err != nil:
			v.add(p, "%q is not a language tag (BCP 47, such as ja or zh-Hant)", l)
			continue
		case slices.Index(u.Languages, l) != i:
			v.add(p, "%q is listed twice", l)
			continue
		}
		if shipped := v.shipped.Languages; len(shipped) > 0 && !slices.Contains(shipped, l) {
			msg := "no catalog for %q; the languages shipped are " + strings.Join(shipped, ", ")
			if near := nearest(tag, shipped); near != "" {
				msg += " (for this one, write " + strconv.Quote(near) + ")"
			}
			v.add(p, msg, l)
		} else if len(shipped) == 0 && tag.String() != l {
			v.add(p, "write %q as %q", l, tag.String())
		}
	}
}

// nearest is the shipped language tag names in another spelling or region
// (zh-TW for zh-Hant, ko-KR for ko), or "".
func nearest(tag language.Tag, shipped []string) string {
	tags := make([]language.Tag, len(shipped))
	for i, s := range shipped {
		tags[i] = language.Make(s)
	}
	if _, idx, conf := language.NewMatcher(tags).Match(tag); conf >= language.High {
		return shipped[idx]
	}
	return ""
}
