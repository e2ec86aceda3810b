package loginui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales
var localeFS embed.FS

// fallbackLanguage is the language a deployment speaks when it names none:
// the programme's home market.
const fallbackLanguage = "ja"

// Shipped lists the languages that have catalogs, one folder each under
// locales/ named by its canonical BCP 47 tag (ja, en, zh-Hans …), Japanese
// first: what ui.languages may name. Adding a language is adding a folder.
func Shipped() []string {
	langs, err := shippedIn(localeFS)
	if err != nil {
		panic(err) // the embedded folders are fixed at build time; a test covers them
	}
	return langs
}

// shippedIn reads the language folders of fsys. A folder whose name is not
// a canonical tag is an error, not a language no one can choose.
func shippedIn(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, "locales")
	if err != nil {
		return nil, fmt.Errorf("loginui: catalogs: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t, err := language.Parse(e.Name())
		if err != nil || t.String() != e.Name() {
			return nil, fmt.Errorf("loginui: catalog folder locales/%s is not named by a canonical language tag", e.Name())
		}
		out = append(out, e.Name())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i] == fallbackLanguage && out[j] != fallbackLanguage })
	return out, nil
}

// langSet is the languages one deployment speaks (ui.languages), the
// fallback first, and how a request is matched to one of them.
type langSet struct {
	names   []string
	matcher language.Matcher
}

// newLangSet checks names against the shipped catalogs: each must have one,
// and none may repeat. Empty means every shipped language.
func newLangSet(names []string, cat catalog) (langSet, error) {
	if len(names) == 0 {
		names = Shipped()
	}
	tags := make([]language.Tag, len(names))
	for i, n := range names {
		if _, ok := cat[n]; !ok {
			return langSet{}, fmt.Errorf("loginui: no catalog for language %q (shipped: %s)", n, strings.Join(Shipped(), ", "))
		}
		if slices.Index(names, n) != i {
			return langSet{}, fmt.Errorf("loginui: language %q is listed twice", n)
		}
		tags[i] = language.MustParse(n)
	}
	return langSet{names: slices.Clone(names), matcher: language.NewMatcher(tags)}, nil
}

// match maps one tag to a language of the set when they are the same
// language and script ("zh-CN", "zh-SG" and "zh" are zh-Hans; "zh-TW",
// "zh-HK" and "zh-MO" are zh-Hant; "ko-KR" is ko), or returns "".
func (s langSet) match(tag string) string {
	t, err := language.Parse(strings.TrimSpace(tag))
	if err != nil {
		return ""
	}
	if _, idx, conf := s.matcher.Match(t); conf >= language.High {
		return s.names[idx]
	}
	return ""
}

// has reports whether lang is, exactly, a language of the set.
func (s langSet) has(lang string) bool { return slices.Contains(s.names, lang) }

// negotiate picks the page language: ui_locales of the authorization
// request, then the language cookie, then Accept-Language, then the
// fallback (the first configured language).
func (s langSet) negotiate(r *http.Request, uiLocales []string) string {
	prefs := slices.Clone(uiLocales)
	if c, err := r.Cookie(langCookie); err == nil {
		prefs = append(prefs, c.Value)
	}
	for _, p := range prefs {
		if l := s.match(p); l != "" {
			return l
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		if tags, _, err := language.ParseAcceptLanguage(al); err == nil && len(tags) > 0 {
			// In the browser's order: "zh-HK,zh;q=0.8" is Traditional
			// Chinese, though the matcher, weighing all at once, rates
			// zh's exact match to zh-Hans above zh-HK's to zh-Hant.
			for _, t := range tags {
				if _, idx, conf := s.matcher.Match(t); conf >= language.High {
					return s.names[idx]
				}
			}
			if _, idx, conf := s.matcher.Match(tags...); conf > language.No {
				return s.names[idx]
			}
		}
	}
	return s.names[0]
}

// catalog maps a language ("ja", "zh-Hans") to its messages by stable
// dotted key.
type catalog map[string]map[string]string

// loadCatalogs reads locales/<lang>/*.json of every shipped language: one
// file per area of the UI (login, otp, account …), merged; a key defined
// twice is an error.
func loadCatalogs(fsys fs.FS) (catalog, error) {
	langs, err := shippedIn(fsys)
	if err != nil {
		return nil, err
	}
	c := catalog{}
	for _, lang := range langs {
		files, err := fs.Glob(fsys, "locales/"+lang+"/*.json")
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("loginui: no catalog files for %s", lang)
		}
		m := map[string]string{}
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("loginui: catalog %s: %w", f, err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("loginui: catalog %s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("loginui: catalog %s: key %q defined twice", f, k)
				}
				m[k] = v
			}
		}
		c[lang] = m
	}
	if _, ok := c[fallbackLanguage]; !ok {
		return nil, fmt.Errorf("loginui: no catalog for %s, the reference language", fallbackLanguage)
	}
	return c, nil
}

// missing lists keys present in one catalog but not in another: every
// language must have every key of every other, the Japanese reference
// included.
func (c catalog) missing() []string {
	var out []string
	for a, am := range c {
		for b, bm := range c {
			if a == b {
				continue
			}
			for k := range am {
				if _, ok := bm[k]; !ok {
					out = append(out, b+": "+k)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// T returns the message for key in lang, formatted with args. A missing key
// shows itself, so it is visible rather than blank (and tests catch it).
func (c catalog) T(lang, key string, args ...any) string {
	msg, ok := c[lang][key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

const langCookie = "tsubasa_lang"
