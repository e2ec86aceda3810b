package member

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"1234567", "1234567", nil},
		{"123456789", "123456789", nil},
		{" 123-4567 ", "1234567", nil},
		{"123 456 789", "123456789", nil},
		{"１２３４５６７", "1234567", nil},                 // full-width digits
		{"１２３－４５６７", "1234567", nil},                // full-width hyphen
		{"123\u3000456\u3000789", "123456789", nil}, // ideographic space
		{"123ー4567", "1234567", nil},                // prolonged sound mark typed for "-"
		{"0012345", "0012345", nil},
		{"12345678", "", ErrNumberFormat},
		{"123456", "", ErrNumberFormat},
		{"1234567890", "", ErrNumberFormat},
		{"12a4567", "", ErrNumberFormat},
		{"", "", ErrNumberFormat},
		{"١٢٣٤٥٦٧", "", ErrNumberFormat}, // Arabic-Indic digits are not member numbers
		{"+1234567", "", ErrNumberFormat},
	} {
		got, err := ParseNumber(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseNumber(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseEmail(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"hanako@example.jp", "hanako@example.jp", nil},
		{"  Hanako.Yamada@Example.JP ", "Hanako.Yamada@example.jp", nil},
		{"a+tag@mail.example.co.jp", "a+tag@mail.example.co.jp", nil},
		{"はなこ@例え.jp", "はなこ@例え.jp", nil},
		{".hanako@example.jp", "", ErrEmailLeadingDot},
		{"hana..ko@example.jp", "", ErrEmailConsecutiveDots},
		{"xx...xx@docomo.ne.jp", "", ErrEmailConsecutiveDots},
		{"hanako.@docomo.ne.jp", "", ErrEmailDotBeforeAt},
		{"Hanako <hanako@example.jp>", "", ErrEmailSyntax},
		{"<hanako@example.jp>", "", ErrEmailSyntax},
		{"hanako@example.jp, taro@example.jp", "", ErrEmailSyntax},
		{`"hana ko"@example.jp`, "", ErrEmailSyntax},
		{"hanako@[192.0.2.1]", "", ErrEmailSyntax},
		{"hanako@localhost", "", ErrEmailSyntax},
		{"hanako@example.123", "", ErrEmailSyntax},
		{"hanako@-example.jp", "", ErrEmailSyntax},
		{"hanako@example..jp", "", ErrEmailSyntax},
		{"hanako", "", ErrEmailSyntax},
		{"@example.jp", "", ErrEmailSyntax},
		{"hanako@", "", ErrEmailSyntax},
		{"", "", ErrEmailSyntax},
		{"hana ko@example.jp", "", ErrEmailSyntax},
	} {
		got, err := ParseEmail(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParsePhone(t *testing.T) {
	for _, tc := range []struct {
		in, region, want string
		err              error
	}{
		{"090-1234-5678", "JP", "+819012345678", nil},
		{"０９０－１２３４－５６７８", "JP", "+819012345678", nil},
		{"+81 90 1234 5678", "US", "+819012345678", nil},
		{"03-5460-0124", "jp", "+81354600124", nil},
		{"(201) 555-0123", "US", "+12015550123", nil},
		{"090-1234", "JP", "", ErrPhoneFormat},
		{"not a number", "JP", "", ErrPhoneFormat},
		{"0312345678", "", "", ErrPhoneFormat}, // no region, no country code
		{"+1 201 555 0123 ext. 12", "US", "", ErrPhoneFormat},
		{"", "JP", "", ErrPhoneFormat},
	} {
		got, err := ParsePhone(tc.in, tc.region)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParsePhone(%q, %q) = %q, %v; want %q, %v", tc.in, tc.region, got, err, tc.want, tc.err)
		}
	}
}

// TestCleanLocale: a member's language is stored by its catalog's name,
// whichever tag the operator wrote; a language without catalogs is
// refused, naming those there are.
func TestCleanLocale(t *testing.T) {
	for in, want := range map[string]string{
		"": "ja", "ja": "ja", "ja-JP": "ja", "JA": "ja", "en_US": "en", "en-GB": "en",
		"zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh": "zh-Hans", "zh-Hans": "zh-Hans", "zh_CN": "zh-Hans",
		"zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-Hant-TW": "zh-Hant", "ko": "ko", "ko-KR": "ko",
	} {
		if got, err := cleanLocale(in); err != nil || got != want {
			t.Errorf("cleanLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"fr", "de-DE", "x", "ja-JP-u-ca-japanese-x-!!"} {
		if got, err := cleanLocale(in); !errors.Is(err, ErrLocale) {
			t.Errorf("cleanLocale(%q) = %q, %v; want ErrLocale", in, got, err)
		}
	}
	if !strings.Contains(ErrLocale.Error(), "zh-Hant") {
		t.Errorf("ErrLocale %q does not list the languages", ErrLocale)
	}
}
