package risk

import (
	"strings"
	"unicode"

	"github.com/mileusna/useragent"

	"tsubasa/storage"
)

// Device types in storage.Device.Type.
const (
	TypeMobile  = "mobile"
	TypeTablet  = "tablet"
	TypeDesktop = "desktop"
	TypeBot     = "bot"
	TypeUnknown = "unknown"
)

// maxField bounds every string taken from a User-Agent, which the client
// writes and can make as long as it likes.
const maxField = 64

// maxUserAgent bounds the User-Agent kept in an audit event.
const maxUserAgent = 512

// DescribeDevice parses a User-Agent header (with
// github.com/mileusna/useragent) into the descriptive fields of a device
// record: Type, Model, OS, OSVersion, Browser and BrowserVersion. The other
// fields are left zero.
func DescribeDevice(ua string) storage.Device {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return storage.Device{Type: TypeUnknown}
	}
	p := useragent.Parse(ua)
	d := storage.Device{
		Type:           deviceType(p),
		Model:          clean(p.Device),
		OS:             clean(p.OS),
		OSVersion:      clean(p.OSVersion),
		Browser:        clean(p.Name),
		BrowserVersion: clean(p.Version),
	}
	if p.Name == p.String {
		// The parser found no product token and echoed the whole header.
		d.Browser, d.BrowserVersion = "", ""
	}
	if d.OSVersion != "" && !unicode.IsDigit(rune(d.OSVersion[0])) {
		// Linux reports its architecture ("x86_64") where a version goes.
		d.OSVersion = ""
	}
	if d.OS == useragent.Android && len(d.Model) <= 1 {
		// Chrome's reduced User-Agent says "Android 10; K" on every phone.
		d.Model = ""
	}
	return d
}

func deviceType(p useragent.UserAgent) string {
	switch {
	case p.Bot:
		return TypeBot
	case p.Tablet:
		return TypeTablet
	case p.Mobile:
		return TypeMobile
	case p.Desktop:
		return TypeDesktop
	default:
		return TypeUnknown
	}
}

// clean trims s, drops control characters and bounds its length, so that
// nothing a client sends can break a mail or a log line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	return truncate(s, maxField)
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// DisplayDevice is the device line of an alert, "name(type)": the model
// when known ("iPhone(mobile)", "Pixel 8(mobile)"), else the operating
// system ("Windows(desktop)"), else "unknown".
func DisplayDevice(d storage.Device) string {
	name := d.Model
	if name == "" {
		name = d.OS
	}
	if name == "" {
		name = "unknown"
	}
	typ := d.Type
	if typ == "" {
		typ = TypeUnknown
	}
	return name + "(" + typ + ")"
}

// DisplayBrowser is the browser line of an alert: the family in lower case
// as the model airline's mail shows it ("chrome", "safari", "edge"), or ""
// when unknown.
func DisplayBrowser(d storage.Device) string {
	return strings.ToLower(d.Browser)
}

// sameBrowser reports whether two descriptions name the same browser
// family; versions do not matter, since browsers update themselves.
func sameBrowser(a, b storage.Device) bool {
	return strings.EqualFold(a.Browser, b.Browser)
}
