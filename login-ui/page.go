package loginui

import (
	"net/http"
	"net/url"
	"time"

	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// page is what every page's data embeds: language, brand, the language
// menu and the message catalog (through T).
type page struct {
	Lang     string
	TitleKey string
	Brand    Brand
	// Switch is the language menu: every configured language, named in
	// itself, the page's own marked Current.
	Switch   []langLink
	Error    string // catalog key of an error to announce, if any
	ErrorArg any
	cat      catalog
}

type langLink struct {
	Code    string
	Label   string
	URL     string
	Current bool
}

// LangName is the page's language named in itself (日本語, English …).
func (p page) LangName() string { return p.cat.T(p.Lang, "common.language_name") }

// T translates a catalog key into the page's language.
func (p page) T(key string, args ...any) string { return p.cat.T(p.Lang, key, args...) }

// ErrorText is the page's error message, formatted.
func (p page) ErrorText() string {
	if p.Error == "" {
		return ""
	}
	if p.ErrorArg != nil {
		return p.T(p.Error, p.ErrorArg)
	}
	return p.T(p.Error)
}

func (u *UI) newPage(r *http.Request, lang, titleKey string) page {
	p := page{Lang: lang, TitleKey: titleKey, Brand: u.opts.Brand, cat: u.cat}
	base := r.URL.Query()
	if r.Method == http.MethodPost && base.Get("authRequestID") == "" {
		// A page answering a form post switches language on its GET form,
		// which needs the request the form carried.
		if id := r.PostFormValue("authRequestID"); id != "" {
			base.Set("authRequestID", id)
		}
	}
	for _, code := range u.langs.names {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("lang", code)
		p.Switch = append(p.Switch, langLink{Code: code, Label: u.cat.T(code, "common.language_name"),
			URL: r.URL.Path + "?" + q.Encode(), Current: code == lang})
	}
	return p
}

type errorPage struct {
	page
	Message string // catalog key
	Detail  string // shown as text, e.g. a refused redirect URI (never a link)
	BackURL string
}

// renderError shows a friendly error page with a way back.
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := errorPage{page: u.newPage(r, u.langs.negotiate(r, nil), "error.title"), Message: key, BackURL: u.opts.Brand.SupportURL}
	u.render(w, r, status, "error", p)
}

// RenderError lets cmd show the UI's error page for errors raised outside
// it (for example an authorization request op refuses to redirect); detail
// is shown as plain text.
func (u *UI) RenderError(w http.ResponseWriter, r *http.Request, status int, key, detail string) {
	u.securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := errorPage{page: u.newPage(r, u.langs.negotiate(r, nil), "error.title"), Message: key, Detail: detail, BackURL: u.opts.Brand.SupportURL}
		u.render(w, r, status, "error", p)
	})).ServeHTTP(w, r)
}

// Rule describes a password rule (or its violation) with its limits.
func (p page) Rule(v member.Violation) string {
	switch v.Rule {
	case "password.rule.length":
		return p.T(v.Rule, v.Min, v.Max)
	case "password.rule.classes":
		return p.T(v.Rule, v.Min)
	default:
		return p.T(v.Rule)
	}
}

// formatTime shows an instant in the member's language, in loc, with the
// catalog's layout (common.datetime_layout, or common.date_layout when
// dateOnly): every account page formats times the same way. A zero time
// is shown as nothing.
func (c catalog) formatTime(lang string, t time.Time, loc *time.Location, dateOnly bool) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	key := "common.datetime_layout"
	if dateOnly {
		key = "common.date_layout"
	}
	return t.In(loc).Format(c.T(lang, key))
}

// placeName is a login's approximate place in the page's language, as
// the catalog's security.place.format puts city and country, "" when
// unknown.
func (p page) placeName(pl storage.Place) string {
	return notify.PlaceText(pl, p.Lang, func(city, country string) string { return p.T("security.place.format", city, country) })
}

// PasskeyPrimary reports whether the passkey button is the page's primary
// action. One action per page is primary (solid): on the login page the
// password form's; a page whose action is the passkey (passkey_required)
// has a field of this name, which wins over this method.
func (page) PasskeyPrimary() bool { return false }
