package notify

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/language"
)

// The wording of every mail and SMS is in locales/<tag>.json, one catalog
// per language named by its canonical BCP 47 tag; the templates hold only
// structure. Adding a language is adding its catalog (and the pages'
// folder in login-ui).
//
//go:embed locales/*.json
var catalogFS embed.FS

// referenceLanguage is the catalog every other must match key for key,
// and the language of a member who has none.
const referenceLanguage = LocaleJA

// mailCatalog maps a language to its messages by dotted key.
type mailCatalog map[string]map[string]string

// loadMailCatalogs reads locales/*.json of fsys. A file not named by a
// canonical tag is an error, not a language no one can choose.
func loadMailCatalogs(fsys fs.FS) (mailCatalog, error) {
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("notify: no mail catalogs")
	}
	c := mailCatalog{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "locales/"), ".json")
		if t, err := language.Parse(name); err != nil || t.String() != name {
			return nil, fmt.Errorf("notify: mail catalog %s is not named by a canonical language tag", f)
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("notify: mail catalog %s: %w", f, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("notify: mail catalog %s: %w", f, err)
		}
		c[name] = m
	}
	if _, ok := c[referenceLanguage]; !ok {
		return nil, fmt.Errorf("notify: no mail catalog for %s, the reference language", referenceLanguage)
	}
	return c, nil
}

// missing lists, as "lang: key", what a catalog lacks of another's keys.
func (c mailCatalog) missing() []string {
	var out []string
	for a, am := range c {
		for b, bm := range c {
			for k := range am {
				if _, ok := bm[k]; !ok && a != b {
					out = append(out, b+": "+k)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// languages are the catalog's languages, Japanese first.
func (c mailCatalog) languages() []string {
	out := make([]string, 0, len(c))
	for l := range c {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == referenceLanguage:
			return -1
		case b == referenceLanguage:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// text is the message for key in lang, formatted with the args it uses:
// a translation may leave out a value the template offers (the brand),
// and a message without verbs is returned as written.
func (c mailCatalog) text(lang, key string, args ...any) string {
	msg, ok := c[lang][key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(msg, "%") {
		return msg
	}
	if !strings.Contains(msg, "%[") {
		// Explicit indexes silence fmt's complaint about unused values;
		// give every verb one so a message may use fewer than offered.
		msg = indexVerbs(msg)
	}
	return fmt.Sprintf(msg, args...)
}

// indexVerbs numbers a message's verbs in order: "%s … %d" becomes
// "%[1]s … %[2]d".
func indexVerbs(msg string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(msg); i++ {
		b.WriteByte(msg[i])
		if msg[i] != '%' || i+1 >= len(msg) {
			continue
		}
		if msg[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		n++
		fmt.Fprintf(&b, "[%d]", n)
	}
	return b.String()
}

// matcher picks one of langs for a member's or a page's language tag.
type matcher struct {
	langs []string
	m     language.Matcher
}

func newMatcher(langs []string) matcher {
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.MustParse(l)
	}
	return matcher{langs: langs, m: language.NewMatcher(tags)}
}

// match maps tag to the language of langs that is the same language and
// script (zh-CN and zh-SG are zh-Hans, zh-TW and zh-HK zh-Hant, ko-KR
// ko), or "".
func (m matcher) match(tag string) string {
	t, err := language.Parse(strings.TrimSpace(strings.ReplaceAll(tag, "_", "-")))
	if err != nil {
		return ""
	}
	if _, idx, conf := m.m.Match(t); conf >= language.High {
		return m.langs[idx]
	}
	return ""
}

// shipped is every language with a mail catalog.
var shipped = func() matcher {
	c, err := loadMailCatalogs(catalogFS)
	if err != nil {
		panic(err) // embedded at build time; the package's tests load them
	}
	return newMatcher(c.languages())
}()

// Languages are the languages mail and SMS can be written in, Japanese
// first: the catalogs under locales/.
func Languages() []string { return slices.Clone(shipped.langs) }

// MatchLanguage maps a language tag to the language with a mail catalog
// it names ("zh-TW" is "zh-Hant", "ko-KR" "ko"), and reports whether
// there is one: a member's stored language must be one of these.
func MatchLanguage(tag string) (string, bool) {
	l := shipped.match(tag)
	return l, l != ""
}

// oneLine joins a message written on several lines for a text mail into
// one for HTML: without a space after Chinese, Japanese or Korean (which
// do not separate words at a line end), with one otherwise.
func oneLine(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			l = strings.TrimLeft(l, " \t")
			prev := []rune(b.String())
			if len(prev) > 0 && !wide(prev[len(prev)-1]) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// wide reports a character of a script written without spaces between
// words, or its punctuation.
func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) || r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF
}
