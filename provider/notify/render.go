package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"reflect"
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
)

// Locales the templates are written in.
const (
	LocaleJA = "ja"
	LocaleEN = "en"
)

var kindData = map[string]reflect.Type{
	KindOTP:           reflect.TypeFor[OTPData](),
	KindLoginAlert:    reflect.TypeFor[LoginAlertData](),
	KindAppLinked:     reflect.TypeFor[AppLinkedData](),
	KindContactVerify: reflect.TypeFor[ContactVerifyData](),
}

// Kinds lists every mail kind, for start-up checks and tests.
func Kinds() []string {
	return []string{KindOTP, KindLoginAlert, KindAppLinked, KindContactVerify}
}

// NormalizeLocale maps a language tag to the locale a mail is written in:
// anything Japanese, or no preference at all, is "ja"; the rest is "en".
func NormalizeLocale(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if tag == "" || tag == "ja" || strings.HasPrefix(tag, "ja-") || strings.HasPrefix(tag, "ja_") {
		return LocaleJA
	}
	return LocaleEN
}

//go:embed templates/*.txt templates/*.html
var embedded embed.FS

// Renderer turns a kind, a locale and typed data into a subject, a text
// body and an HTML body. Templates are parsed once; a missing one is an
// error from the constructor, not from the first mail.
//
// Each kind K needs, per locale L, the text templates "K.subject.L" and
// "K.text.L" in a *.txt file and the HTML template "K.html.L" in a *.html
// file. HTML goes through html/template, so every value is escaped and a
// hostile URL is neutralised; mail carries no external resources, only
// inline style attributes.
type Renderer struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewRenderer parses the templates built into the binary.
func NewRenderer() (*Renderer, error) {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	return NewRendererFS(sub)
}

// NewRendererFS parses *.txt and *.html templates from the root of fsys,
// for operators who replace the built-in wording.
func NewRendererFS(fsys fs.FS) (*Renderer, error) {
	funcs := map[string]any{
		"inc":  func(i int) int { return i + 1 },
		"link": func(url, label string) linkArgs { return linkArgs{URL: url, Label: label} },
		"fact": func(label, value string) factArgs { return factArgs{Label: label, Value: value} },
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
		for _, loc := range []string{LocaleJA, LocaleEN} {
			for _, name := range []string{kind + ".subject." + loc, kind + ".text." + loc} {
				if text.Lookup(name) == nil {
					missing = append(missing, name)
				}
			}
			if html.Lookup(kind+".html."+loc) == nil {
				missing = append(missing, kind+".html."+loc)
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("notify: missing mail templates: %s", strings.Join(missing, ", "))
	}
	return &Renderer{text: text, html: html}, nil
}

// Render renders kind in locale (see NormalizeLocale) with data, which must
// be the kind's data struct or a pointer to it. The subject comes back on
// one line.
func (r *Renderer) Render(kind, locale string, data any) (subject, text, html string, err error) {
	if err := checkData(kind, data); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s: %w", kind, err)
	}
	loc := NormalizeLocale(locale)
	var buf bytes.Buffer
	if err := r.text.ExecuteTemplate(&buf, kind+".subject."+loc, data); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s subject: %w", kind, err)
	}
	subject = strings.Join(strings.Fields(buf.String()), " ")
	buf.Reset()
	if err := r.text.ExecuteTemplate(&buf, kind+".text."+loc, data); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s text: %w", kind, err)
	}
	text = strings.TrimSpace(buf.String()) + "\n"
	buf.Reset()
	if err := r.html.ExecuteTemplate(&buf, kind+".html."+loc, data); err != nil {
		return "", "", "", fmt.Errorf("notify: render %s html: %w", kind, err)
	}
	html = strings.TrimSpace(buf.String()) + "\n"
	return subject, text, html, nil
}

// RenderMessage renders kind into a Message addressed to to, with Purpose
// and Locale filled in.
func (r *Renderer) RenderMessage(kind, locale, to, purpose string, data any) (Message, error) {
	subject, text, html, err := r.Render(kind, locale, data)
	if err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: subject, Text: text, HTML: html, Purpose: purpose, Locale: NormalizeLocale(locale)}, nil
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
