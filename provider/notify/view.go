package notify

import (
	"fmt"
	"slices"
	"time"

	"tsubasa/storage"
)

// view is what a mail template executes on: the kind's data (D), the
// language it is written in, and the words of that language (T).
//
// Alerts (login_alert, app_linked) are bilingual, as in the login alert
// the model airline sends ("*English follows Japanese."): the member's
// language first, then Other. A Japanese or an English member reads
// Japanese and English, the Japanese-English layout of the seed sample in
// either order. A member in any other language reads that language first
// and English after it: a programme's Chinese or Korean members may forward
// an alert to someone, or read it on a device, that reads English better,
// and English is the language every member of an international programme
// can be assumed to share; Japanese would add a third language few of them
// read. One-time passwords and address confirmations are in the member's
// language alone: they are read at once by the one who asked for them.
type view struct {
	D     any
	Lang  string
	Links Links
	r     *Renderer
}

func (r *Renderer) view(lang string, data any) view {
	return view{D: data, Lang: lang, Links: r.links, r: r}
}

// T is key in the view's language, formatted with args.
func (v view) T(key string, args ...any) string { return v.r.cat.text(v.Lang, key, args...) }

// In is the same mail in another language.
func (v view) In(lang string) view { v.Lang = lang; return v }

// Other is the second language of a bilingual mail: English, or Japanese
// for an English member; nil when that language is not configured (the
// mail is then in the member's language alone).
func (v view) Other() *view {
	other := LocaleEN
	if v.Lang == LocaleEN {
		other = LocaleJA
	}
	if !slices.Contains(v.r.langs.langs, other) {
		return nil
	}
	o := v.In(other)
	return &o
}

// Follows is the note that opens a bilingual mail, in the second language,
// naming the first in it: "*English follows Japanese.".
func (v view) Follows() string {
	o := v.Other()
	if o == nil {
		return ""
	}
	return o.T("mail.follows", v.T("mail.name."+o.Lang))
}

// SubjectParts are the languages of a bilingual subject, English last:
// "新しいご利用環境からログインがありました/Login from new device" for
// Japanese and English members alike.
func (v view) SubjectParts() []view {
	o := v.Other()
	switch {
	case o == nil:
		return []view{v}
	case v.Lang == LocaleEN:
		return []view{*o, v}
	}
	return []view{v, *o}
}

// HasLinks reports whether any footer link is configured.
func (v view) HasLinks() bool {
	return v.Links.Support != "" || v.Links.Privacy != "" || v.Links.Terms != ""
}

// Reason is the catalog key of why a one-time password was sent.
func (v view) Reason() string {
	if d, ok := v.D.(OTPData); ok {
		switch d.Purpose {
		case "login", "passkey_register", "account_change", "password_reset":
			return "otp.reason." + d.Purpose
		}
	}
	return "otp.reason.other"
}

// When is the data's time in the view's language, in the zone of the
// data's location: "2025/07/01 00:00:00(JST)" in the seed's languages.
// Where the member's own zone is known and its clock differs at that
// moment, the time there follows: "2025年7月1日 00:00 (JST) / 2025年6月30日
// 23:00 (UTC+8)", so a member abroad need not convert to recognise a login.
func (v view) When() string {
	var at time.Time
	var loc, own *time.Location
	var label string
	switch d := v.D.(type) {
	case LoginAlertData:
		at, loc, own, label = d.When, d.Location, d.MemberLocation, d.ZoneLabel
	case AppLinkedData:
		at, loc, own, label = d.When, d.Location, d.MemberLocation, d.ZoneLabel
	default:
		return ""
	}
	out := v.when(at, loc, label)
	if own == nil {
		return out
	}
	if loc == nil {
		loc = time.UTC
	}
	_, service := at.In(loc).Zone()
	_, member := at.In(own).Zone()
	if service == member {
		return out
	}
	return out + " / " + v.when(at, own, utcOffset(member))
}

// utcOffset names an offset the same way in every language: "UTC+8",
// "UTC-3:30".
func utcOffset(seconds int) string {
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	h, m := seconds/3600, seconds%3600/60
	if m != 0 {
		return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("UTC%s%d", sign, h)
}

func (v view) when(t time.Time, loc *time.Location, label string) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if label == "" {
		label = t.Format("MST")
	}
	return v.T("mail.when", t.Format(v.T("mail.when_layout")), label)
}

// Tagline is the view the line under an alert's heading is written in:
// English when the mail has an English part, as the seed's alert has it
// under the Japanese heading, else the mail's own language.
func (v view) Tagline() view {
	if o := v.Other(); o != nil && o.Lang == LocaleEN {
		return *o
	}
	return v
}

// Place is the login's approximate place in the view's language, "" when
// unknown: the city and country as the catalog's mail.place puts them
// ("東京（日本）", "Tokyo, Japan"), or the country alone.
func (v view) Place() string {
	d, ok := v.D.(LoginAlertData)
	if !ok {
		return ""
	}
	return PlaceText(d.Place, v.Lang, func(city, country string) string { return v.T("mail.place", city, country) })
}

// PlaceText names p in lang: join(city, country) when the city is known,
// else the country, else "" (the login UI formats with its own catalog).
// A name missing in lang falls back to English.
func PlaceText(p storage.Place, lang string, join func(city, country string) string) string {
	name := func(m map[string]string) string {
		if n := m[lang]; n != "" {
			return n
		}
		return m[LocaleEN]
	}
	country, city := name(p.Names), name(p.Cities)
	switch {
	case country == "" && city == "":
		return ""
	case city == "":
		return country
	case country == "":
		return city
	}
	return join(city, country)
}
