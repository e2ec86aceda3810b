package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	texttemplate "text/template"
)

// Mail kinds the Renderer knows. Each has a data struct: OTPData,
// LoginAlertData, AppLinkedData, ContactVerifyData.
const (
	KindOTP           = "otp"
	KindLoginAlert    = "login_alert"
	KindAppLinked     = "app_linked"
	KindContactVerify = "contact_verify"
	KindContactTest   = "contact_test" // ContactTestData: "send me a test message"
	KindSupportCode   = "support_code" // SupportCodeData: a code the member reads back to a support agent
)

// The languages of the programme's home market and of everyone else,
// the two every bilingual mail is written in.
const (
	LocaleJA = "ja"
	LocaleEN = "en"
)

var kindData = map[string]reflect.Type{
	KindOTP:           reflect.TypeFor[OTPData](),
	KindLoginAlert:    reflect.TypeFor[LoginAlertData](),
	KindAppLinked:     reflect.TypeFor[AppLinkedData](),
	KindContactVerify: reflect.TypeFor[ContactVerifyData](),
	KindContactTest:   reflect.TypeFor[ContactTestData](),
	KindSupportCode:   reflect.TypeFor[SupportCodeData](),
}

// Kinds lists every mail kind, for start-up checks and tests.
func Kinds() []string {
	return []string{KindOTP, KindLoginAlert, KindAppLinked, KindContactVerify, KindContactTest, KindSupportCode}
}

// NormalizeLocale maps a language tag to a language with a mail catalog:
// no preference at all is Japanese, a tag naming a shipped language is
// that language ("zh-TW" is "zh-Hant"), and anything else is English.
func NormalizeLocale(tag string) string {
	if strings.TrimSpace(tag) == "" {
		return LocaleJA
	}
	if l, ok := MatchLanguage(tag); ok {
		return l
	}
	return LocaleEN
}

//go:embed templates/*.txt templates/*.html
var embedded embed.FS

// Links are the programme's pages every mail ends with (brand.support_url,
// brand.privacy_url, brand.terms_url); empty ones are left out.
type Links struct{ Support, Privacy, Terms string }

// RendererOptions configure a Renderer.
type RendererOptions struct {
	// Languages mail is written in (ui.languages), the fallback first:
	// each must have a catalog. Empty means every language that has one.
	Languages []string
	Links     Links
}

// Renderer turns a kind, a language and typed data into a subject, a text
// body and an HTML body. Templates and catalogs are parsed once; a
// missing one is an error from the constructor, not from the first mail.
//
// Each kind K has the text templates "K.subject" and "K.text" in a *.txt
// file and the HTML template "K.html" in a *.html file, executed on a
// view (view.go) that gives them the data and the words of one language.
// HTML goes through html/template, so every value is escaped and a
// hostile URL is neutralised; mail carries no external resources, only
// inline style attributes.
type Renderer struct {
	text  *texttemplate.Template
	html  *htmltemplate.Template
	cat   mailCatalog
	langs matcher
	links Links
}

// NewRenderer parses the templates and catalogs built into the binary,
// for every language that has a catalog and no links.
func NewRenderer() (*Renderer, error) { return NewRendererWith(RendererOptions{}) }

// NewRendererWith is NewRenderer for the configured languages and links.
func NewRendererWith(o RendererOptions) (*Renderer, error) {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	return newRenderer(sub, o)
}

// NewRendererFS parses *.txt and *.html templates from the root of fsys,
// for operators who replace the built-in layout; the wording stays the
// catalogs'.
func NewRendererFS(fsys fs.FS) (*Renderer, error) { return newRenderer(fsys, RendererOptions{}) }

func newRenderer(fsys fs.FS, o RendererOptions) (*Renderer, error) {
	cat, err := loadMailCatalogs(catalogFS)
	if err != nil {
		return nil, err
	}
	if miss := cat.missing(); len(miss) > 0 {
		return nil, fmt.Errorf("notify: mail catalog keys missing: %s", strings.Join(miss, ", "))
	}
	langs := o.Languages
	if len(langs) == 0 {
		langs = cat.languages()
	}
	for i, l := range langs {
		if _, ok := cat[l]; !ok {
			return nil, fmt.Errorf("notify: no mail catalog for language %q (shipped: %s)", l, strings.Join(cat.languages(), ", "))
		}
		if slices.Index(langs, l) != i {
			return nil, fmt.Errorf("notify: language %q is listed twice", l)
		}
	}
	text, err := texttemplate.New("").Funcs(funcs).Option("missingkey=error").ParseFS(fsys, "*.txt")
	if err != nil {
		return nil, fmt.Errorf("notify: text templates: %w", err)
	}
	html, err := htmltemplate.New("").Funcs(funcs).Option("missingkey=error").ParseFS(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("notify: html templates: %w", err)
	}
	var missing []string
	for _, kind := range Kinds() {
		for _, name := range []string{kind + ".subject", kind + ".text"} {
			if text.Lookup(name) == nil {
				missing = append(missing, name)
			}
		}
		if html.Lookup(kind+".html") == nil {
			missing = append(missing, kind+".html")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("notify: missing mail templates: %s", strings.Join(missing, ", "))
	}
	return &Renderer{text: text, html: html, cat: cat, langs: newMatcher(slices.Clone(langs)), links: o.Links}, nil
}

var funcs = map[string]any{
	"inc":     func(i int) int { return i + 1 },
	"link":    func(url, label string) linkArgs { return linkArgs{URL: url, Label: label} },
	"fact":    func(label, value string) factArgs { return factArgs{Label: label, Value: value} },
	"oneline": oneLine,
	"lines":   func(s string) []string { return strings.Split(s, "\n") },
	// css marks a catalog's font list as trusted style: it is ours, and
	// html/template would otherwise refuse the quotes in it.
	"css": func(s string) htmltemplate.CSS { return htmltemplate.CSS(s) },
}

// Language is the language a mail for tag is written in, among the
// renderer's: the one tag names, else the first (the fallback) for no
// preference, else English where configured.
func (r *Renderer) Language(tag string) string {
	if l := r.langs.match(tag); l != "" {
		return l
	}
	if strings.TrimSpace(tag) != "" && slices.Contains(r.langs.langs, LocaleEN) {
		return LocaleEN
	}
	return r.langs.langs[0]
}

// Render renders kind in the language of locale (see Language) with data,
// which must be the kind's data struct or a pointer to it. The subject
// comes back on one line.
func (r *Renderer) Render(kind, locale string, data any) (subject, text, html string, err error) {
	if err := checkData(kind, data); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s: %w", kind, err)
	}
	if rv := reflect.ValueOf(data); rv.Kind() == reflect.Pointer {
		data = rv.Elem().Interface() // views switch on the value type
	}
	v := r.view(r.Language(locale), data)
	var buf bytes.Buffer
	if err := r.text.ExecuteTemplate(&buf, kind+".subject", v); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s subject: %w", kind, err)
	}
	subject = strings.Join(strings.Fields(buf.String()), " ")
	buf.Reset()
	if err := r.text.ExecuteTemplate(&buf, kind+".text", v); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s text: %w", kind, err)
	}
	text = strings.TrimSpace(buf.String()) + "\n"
	buf.Reset()
	if err := r.html.ExecuteTemplate(&buf, kind+".html", v); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s html: %w", kind, err)
	}
	html = strings.TrimSpace(buf.String()) + "\n"
	return subject, text, html, nil
}

// RenderMessage renders kind into a Message addressed to to, with Purpose
// and Locale (the language it is written in) filled in.
func (r *Renderer) RenderMessage(kind, locale, to, purpose string, data any) (Message, error) {
	subject, text, html, err := r.Render(kind, locale, data)
	if err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: subject, Text: text, HTML: html, Purpose: purpose, Locale: r.Language(locale)}, nil
}

// SMSText is a one-time password's SMS in the language of locale: key
// "sms.otp" for a code, "sms.contact" for a number's confirmation code.
func (r *Renderer) SMSText(locale, key, brand, code string, minutes int) string {
	return r.cat.text(r.Language(locale), key, brand, code, minutes)
}

// SMSContactTest is the test message's SMS in the language of locale,
// with the "received it" link.
func (r *Renderer) SMSContactTest(locale, brand, link string) string {
	return r.cat.text(r.Language(locale), "sms.contact_test", brand, link)
}

// linkArgs and factArgs carry two values into a shared partial, since
// templates cannot build a struct themselves.
type linkArgs struct{ URL, Label string }

type factArgs struct{ Label, Value string }

type validator interface{ validate() error }

func checkData(kind string, data any) error {
	want, ok := kindData[kind]
	if !ok {
		return errors.New("unknown mail kind")
	}
	v := reflect.ValueOf(data)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return errors.New("nil data")
		}
		v = v.Elem()
	}
	if !v.IsValid() || v.Type() != want {
		return fmt.Errorf("data is %T, want %s", data, want)
	}
	if v.FieldByName("Brand").String() == "" {
		return errors.New("brand required")
	}
	if vd, ok := v.Interface().(validator); ok {
		return vd.validate()
	}
	return nil
}
