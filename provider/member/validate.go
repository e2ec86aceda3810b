package member

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// maxNameLen bounds each name field, in characters.
const maxNameLen = 64

// NewMember is what an operator, the command line or an import provides for
// a new member. Empty optional fields stay empty.
type NewMember struct {
	Number string // required, 7 or 9 digits (spaces, hyphens, full width allowed)
	// At most one of Password (checked against the policy) and PasswordHash
	// (an argon2id or bcrypt PHC string from another system). PIN is the
	// legacy 6-digit PIN. A member may have none (e.g. to be set up later).
	Password     string
	PasswordHash string
	PIN          string
	// At least FamilyName or FamilyNameLatin. Latin names are stored in
	// upper case, the passport form.
	FamilyName, GivenName           string
	FamilyNameLatin, GivenNameLatin string
	Email                           string
	Phone                           string // any common notation; Country (or JP) is the default region
	Country                         string // ISO 3166-1 alpha-2
	Locale                          string // a language of notify.Languages, as any tag naming it; default ja
	// Verified marks the given email and phone as verified: an operator
	// checked them.
	Verified bool
}

// validated is a new member that passed validation, with secrets still in
// the clear (Password, PIN) or as given (PasswordHash).
type validated struct {
	m            storage.Member
	password     string
	pin          string
	passwordHash string
}

// validateNew checks every field of nm and collects all problems. policy nil
// skips the password rules (imports carry no clear-text password).
func validateNew(ctx context.Context, nm NewMember, policy *Policy) (validated, *FieldErrors) {
	fe := &FieldErrors{}
	var v validated
	m := &v.m
	var err error
	if m.Number, err = ParseNumber(nm.Number); err != nil {
		fe.add("number", err)
	}
	for _, f := range []struct {
		field string
		in    string
		out   *string
		latin bool
	}{
		{"family_name", nm.FamilyName, &m.FamilyName, false},
		{"given_name", nm.GivenName, &m.GivenName, false},
		{"family_name_latin", nm.FamilyNameLatin, &m.FamilyNameLatin, true},
		{"given_name_latin", nm.GivenNameLatin, &m.GivenNameLatin, true},
	} {
		if *f.out, err = cleanName(f.in, f.latin); err != nil {
			fe.add(f.field, err)
		}
	}
	if strings.TrimSpace(nm.FamilyName) == "" && strings.TrimSpace(nm.FamilyNameLatin) == "" {
		fe.add("family_name", ErrNameRequired)
	}
	if m.Country, err = cleanCountry(nm.Country); err != nil {
		fe.add("country", err)
	}
	if m.Locale, err = cleanLocale(nm.Locale); err != nil {
		fe.add("locale", err)
	}
	if strings.TrimSpace(nm.Email) != "" {
		if m.Email, err = ParseEmail(nm.Email); err != nil {
			fe.add("email", err)
		}
		m.EmailVerified = nm.Verified
	}
	if strings.TrimSpace(nm.Phone) != "" {
		region := m.Country
		if region == "" {
			region = "JP"
		}
		if m.Phone, err = ParsePhone(nm.Phone, region); err != nil {
			fe.add("phone", err)
		}
		m.PhoneVerified = nm.Verified
	}
	m.OTPChannel = storage.ChannelEmail
	if m.Email == "" && m.Phone != "" {
		m.OTPChannel = storage.ChannelSMS
	}
	v.secrets(ctx, nm, policy, fe)
	if fe.empty() {
		return v, nil
	}
	return v, fe
}

// secrets validates the new member's password (or imported hash) against
// the policy and the legacy PIN's shape.
func (v *validated) secrets(ctx context.Context, nm NewMember, policy *Policy, fe *FieldErrors) {
	switch {
	case nm.Password != "" && nm.PasswordHash != "":
		fe.add("password", ErrPasswordAndHash)
	case nm.PasswordHash != "":
		if err := checkHashFormat(nm.PasswordHash); err != nil {
			fe.add("password_hash", err)
		}
		v.passwordHash = nm.PasswordHash
	case nm.Password != "":
		if policy != nil {
			if vs := policy.Check(ctx, nm.Password, v.m); len(vs) > 0 {
				fe.add("password", &PolicyError{Violations: vs})
				fe.Violations = vs
			}
		}
		v.password = normalizePassword(nm.Password)
	}
	if nm.PIN != "" {
		pin := strings.TrimSpace(width.Fold.String(nm.PIN))
		if !isPINShape(pin) {
			fe.add("pin", ErrPINFormat)
		}
		v.pin = pin
	}
}

// cleanName trims and NFC-normalises a name, refusing control characters
// and overlong names. Latin names are width-folded, limited to ASCII
// letters, spaces, hyphens, apostrophes and periods, and upper-cased.
func cleanName(s string, latin bool) (string, error) {
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	if s == "" {
		return "", nil
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxNameLen {
		return "", ErrNameFormat
	}
	if latin {
		s = strings.ToUpper(width.Fold.String(s))
		for _, r := range s {
			if (r < 'A' || r > 'Z') && r != ' ' && r != '-' && r != '\'' && r != '.' {
				return "", ErrNameLatin
			}
		}
		return s, nil
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) {
			return "", ErrNameFormat
		}
	}
	return s, nil
}

func cleanCountry(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", ErrCountry
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return "", ErrCountry
	}
	return s, nil
}

// cleanLocale accepts a language mail is written in (notify.Languages),
// as any tag that names it (ja-JP, en_US, zh-CN and zh-SG for zh-Hans,
// zh-TW and zh-HK for zh-Hant, ko-KR), and keeps its canonical name;
// empty is Japanese.
func cleanLocale(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "ja", nil
	}
	if l, ok := notify.MatchLanguage(s); ok {
		return l, nil
	}
	return "", ErrLocale
}
