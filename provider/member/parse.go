package member

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"
)

// maxInput bounds what the parsers look at; anything longer is malformed.
const maxInput = 256

// ParseNumber returns the canonical member number: 7 or 9 ASCII digits.
// Spaces and hyphens are dropped and full-width characters folded first, so
// "１２３－４５６７" (typed with a Japanese input method) gives "1234567".
func ParseNumber(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrNumberFormat
	}
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r) || isDash(r):
		default:
			return "", ErrNumberFormat
		}
	}
	if n := b.Len(); n != 7 && n != 9 {
		return "", ErrNumberFormat
	}
	return b.String(), nil
}

// isDash reports hyphen-like characters people type between digit groups,
// including the katakana prolonged sound mark a Japanese IME produces for "-".
func isDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015',
		'\u2043', '\u2212', '\u30fc', '\ufe63':
		return true
	}
	return false
}

// ParseEmail returns addr in canonical form (domain lower-cased, local part
// kept as written), or an error. Beyond ordinary syntax (one bare address, no
// display name, no quoted local part, no address literal, a dotted domain) it
// applies the deliverability rules Japanese carriers impose, each with its own
// error so the form can say what to fix: a leading dot (ErrEmailLeadingDot),
// consecutive dots (ErrEmailConsecutiveDots), a dot right before the @
// (ErrEmailDotBeforeAt).
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || !utf8.ValidString(s) {
		return "", ErrEmailSyntax
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrEmailSyntax
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case strings.HasPrefix(local, `"`):
		return "", ErrEmailSyntax // quoted local parts rarely survive a real mail path
	case strings.HasPrefix(local, "."):
		return "", ErrEmailLeadingDot
	case strings.Contains(local, ".."):
		return "", ErrEmailConsecutiveDots
	case strings.HasSuffix(local, "."):
		return "", ErrEmailDotBeforeAt
	case len(local) > 64:
		return "", ErrEmailSyntax
	}
	addr, err := mail.ParseAddress(s)
	// Address == s rejects "<a@b>", comments and anything else that only
	// parses because net/mail accepts a full RFC 5322 mailbox.
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", ErrEmailSyntax
	}
	domain = strings.ToLower(domain)
	if !validDomain(domain) {
		return "", ErrEmailSyntax
	}
	return local + "@" + domain, nil
}

// validDomain accepts host names of two or more labels of letters (any
// script, for internationalised domains), digits and inner hyphens, with a
// top-level label that is not all digits.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, func(r rune) bool { return !unicode.IsDigit(r) })
}

// ParsePhone returns the E.164 form of a valid phone number. defaultRegion
// (ISO 3166-1 alpha-2, e.g. "JP") is used for numbers written without a
// country code. Numbers with an extension are refused: SMS cannot reach them.
func ParsePhone(s, defaultRegion string) (string, error) {
	s = strings.TrimSpace(width.Fold.String(s))
	if s == "" || len(s) > maxInput/4 {
		return "", ErrPhoneFormat
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(defaultRegion))
	if err != nil || num.GetExtension() != "" || !phonenumbers.IsValidNumber(num) {
		return "", ErrPhoneFormat
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// isPINShape reports exactly 6 ASCII digits: the shape of a legacy PIN.
func isPINShape(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
