package loginui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales
var localeFS embed.FS

// Supported languages, the first is the fallback.
var supported = []language.Tag{language.Japanese, language.English}

var matcher = language.NewMatcher(supported)

// Languages are the languages the hosted pages speak, as BCP 47 tags, the
// default first: what ui_locales can choose from (cmd passes them to the
// provider's discovery document as ui_locales_supported).
func Languages() []string {
	out := make([]string, len(supported))
	for i, t := range supported {
		out[i] = t.String()
	}
	return out
}

// catalog maps a language ("ja", "en") to its messages by stable dotted key.
type catalog map[string]map[string]string

// loadCatalogs reads locales/<lang>/*.json: one file per area of the UI
// (login, otp, account …), merged; a key defined twice is an error.
func loadCatalogs(fsys fs.FS) (catalog, error) {
	c := catalog{}
	for _, tag := range supported {
		lang := tag.String()
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
	return c, nil
}

// missing lists keys present in one catalog but not in another.
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
	sort.Strings(out)
	return out
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

// negotiate picks the page language: ui_locales of the authorization
// request, then the language cookie, then Accept-Language.
func negotiate(r *http.Request, uiLocales []string) string {
	var prefs []string
	prefs = append(prefs, uiLocales...)
	if c, err := r.Cookie(langCookie); err == nil {
		prefs = append(prefs, c.Value)
	}
	for _, p := range prefs {
		if t, err := language.Parse(p); err == nil {
			if _, idx, conf := matcher.Match(t); conf >= language.High {
				return supported[idx].String()
			}
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		if tags, _, err := language.ParseAcceptLanguage(al); err == nil && len(tags) > 0 {
			if _, idx, conf := matcher.Match(tags...); conf > language.No {
				return supported[idx].String()
			}
		}
	}
	return supported[0].String()
}

func validLang(s string) bool {
	for _, t := range supported {
		if strings.EqualFold(t.String(), s) {
			return true
		}
	}
	return false
}
