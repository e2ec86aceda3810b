package notify

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"tsubasa/storage"
)

// WhenLayout is how mails print a moment: 2025/07/01 00:00:00(JST).
const WhenLayout = "2006/01/02 15:04:05"

// Pictogram is one symbol of a pictogram one-time password with the word
// shown under it for mail clients that cannot draw the symbol.
type Pictogram struct {
	Symbol string // e.g. "✈"
	Label  string // e.g. "ひこうき" or "plane"
}

// OTPData fills the "otp" mail. Set Code, Pictograms or both (a pictogram
// sequence with a number, as some programmes use).
type OTPData struct {
	Brand        string
	Code         string
	Pictograms   []Pictogram
	ValidMinutes int
	// Purpose says why the code was sent: "login", "passkey_register",
	// "account_change"; anything else reads as a plain identity check.
	Purpose string
}

func (d OTPData) validate() error {
	var errs []error
	if d.Code == "" && len(d.Pictograms) == 0 {
		errs = append(errs, errors.New("code or pictograms required"))
	}
	if d.ValidMinutes <= 0 {
		errs = append(errs, errors.New("valid minutes must be positive"))
	}
	return errors.Join(errs...)
}

// LoginAlertData fills the "login_alert" mail (a login from a new device).
type LoginAlertData struct {
	Brand        string
	MemberNumber string // the full number; the mail shows only the last 3 digits
	When         time.Time
	Location     *time.Location // where When is shown, e.g. Asia/Tokyo; nil means UTC
	ZoneLabel    string         // e.g. "JST"; empty uses the zone's abbreviation
	// MemberLocation is the member's own zone where it is known; When is
	// shown in it too when its clock differs from Location's.
	MemberLocation *time.Location
	Device         string // e.g. "iPhone(mobile)"
	Browser        string // e.g. "chrome"
	IP             string
	// Place is roughly where IP is (GeoIP), shown in the mail's language
	// when known (view.Place).
	Place storage.Place
	// ChangePasswordURL is required; NotMeURL ("this wasn't me") is
	// shown when set.
	ChangePasswordURL string
	NotMeURL          string
}

// MaskedMemberNumber is MemberNumber as the mail shows it.
func (d LoginAlertData) MaskedMemberNumber() string { return MaskMemberNumber(d.MemberNumber) }

// WhenText is When as the mail shows it.
func (d LoginAlertData) WhenText() string { return FormatWhen(d.When, d.Location, d.ZoneLabel) }

func (d LoginAlertData) validate() error {
	return requireFields(d.When,
		field{"member number", d.MemberNumber}, field{"change password URL", d.ChangePasswordURL})
}

// AppLinkedData fills the "app_linked" mail (a third-party app was linked to
// the member's account through consent).
type AppLinkedData struct {
	Brand        string
	MemberNumber string
	AppName      string
	When         time.Time
	Location     *time.Location
	ZoneLabel    string
	// MemberLocation: as in LoginAlertData.
	MemberLocation *time.Location
	// ManageURL lists linked apps and revokes them; ChangePasswordURL is
	// required; NotMeURL is shown when set.
	ManageURL         string
	ChangePasswordURL string
	NotMeURL          string
}

// MaskedMemberNumber is MemberNumber as the mail shows it.
func (d AppLinkedData) MaskedMemberNumber() string { return MaskMemberNumber(d.MemberNumber) }

// WhenText is When as the mail shows it.
func (d AppLinkedData) WhenText() string { return FormatWhen(d.When, d.Location, d.ZoneLabel) }

func (d AppLinkedData) validate() error {
	return requireFields(d.When,
		field{"member number", d.MemberNumber}, field{"app name", d.AppName},
		field{"manage URL", d.ManageURL}, field{"change password URL", d.ChangePasswordURL})
}

// ContactVerifyData fills the "contact_verify" mail: a code that proves the
// member can read mail at a new address.
type ContactVerifyData struct {
	Brand        string
	Code         string
	ValidMinutes int
	Address      string // the address being confirmed
}

func (d ContactVerifyData) validate() error { return validateCode(d.Code, d.ValidMinutes) }

type field struct{ name, value string }

func requireFields(when time.Time, fields ...field) error {
	var errs []error
	for _, f := range fields {
		if f.value == "" {
			errs = append(errs, errors.New(f.name+" required"))
		}
	}
	if when.IsZero() {
		errs = append(errs, errors.New("time required"))
	}
	return errors.Join(errs...)
}

// FormatWhen prints t in loc (UTC when nil) as WhenLayout followed by the
// zone label in brackets; an empty label uses the zone's abbreviation.
func FormatWhen(t time.Time, loc *time.Location, label string) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if label == "" {
		label = t.Format("MST")
	}
	return t.Format(WhenLayout) + "(" + label + ")"
}

// MaskMemberNumber hides all but the last three digits of a member number:
// "123456321" becomes "******321". Spaces and hyphens are dropped first, so
// "1234-56-321" masks the same way. A number of three characters or fewer
// is hidden entirely, since showing it would show all of it.
func MaskMemberNumber(n string) string {
	n = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u3000' {
			return -1
		}
		return r
	}, n)
	count := utf8.RuneCountInString(n)
	if count <= 3 {
		return strings.Repeat("*", count)
	}
	runes := []rune(n)
	return strings.Repeat("*", count-3) + string(runes[count-3:])
}

// ContactTestData fills the "contact_test" mail: a test message the member
// asked for, whose link says it arrived.
type ContactTestData struct {
	Brand      string
	Address    string // the address it was sent to
	ConfirmURL string // the "received it" link (single use, expiring)
	ValidHours int    // how long the link works
}

func (d ContactTestData) validate() error {
	var errs []error
	if d.ConfirmURL == "" {
		errs = append(errs, errors.New("confirm URL required"))
	}
	if d.ValidHours <= 0 {
		errs = append(errs, errors.New("valid hours must be positive"))
	}
	return errors.Join(errs...)
}

// SupportCodeData fills the "support_code" mail: a code the member reads
// back to an agent of the programme's support desk, on a call the member
// made, to prove it is them. The wording warns against reading it to
// anyone who called the member (vishing): unlike a login code, this one is
// meant to be spoken, so the mail says exactly to whom.
type SupportCodeData struct {
	Brand        string
	Code         string
	ValidMinutes int
}

func (d SupportCodeData) validate() error { return validateCode(d.Code, d.ValidMinutes) }

// validateCode checks what every mail carrying a one-time code needs: the
// code and how many minutes it stays valid.
func validateCode(code string, validMinutes int) error {
	var errs []error
	if code == "" {
		errs = append(errs, errors.New("code required"))
	}
	if validMinutes <= 0 {
		errs = append(errs, errors.New("valid minutes must be positive"))
	}
	return errors.Join(errs...)
}
