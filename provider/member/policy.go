package member

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"tsubasa/storage"
)

// Stable catalog keys of the password rules. The login UI shows them next to
// the new-password field (Policy.Rules) and after a refused password
// (Policy.Check, PolicyError).
const (
	RuleLength       = "password.rule.length"        // Min..Max characters
	RuleClasses      = "password.rule.classes"       // at least Min of Max character classes
	RuleMemberNumber = "password.rule.member_number" // must not contain the member number
	RuleName         = "password.rule.name"          // must not contain the member's name
	RuleCommon       = "password.rule.common"        // must not be a well-known password
	RuleBreached     = "password.rule.breached"      // must not appear in known breaches
)

// Password length limits used when a Policy leaves them zero.
const (
	DefaultMinLength = 8
	DefaultMaxLength = 128
)

// minNamePart is the shortest name part the name rule looks for; shorter
// parts would refuse too many harmless passwords.
const minNamePart = 3

// Violation is one password rule, broken (from Check) or to be shown (from
// Rules). Min and Max carry the numbers the message needs (length: Min..Max;
// classes: Min of Max); other rules leave them zero.
type Violation struct {
	Rule     string
	Min, Max int
}

// BreachChecker tells whether a password appears in known breaches. It
// should fail open: a checker that cannot answer returns false.
type BreachChecker interface {
	Breached(ctx context.Context, password string) (bool, error)
}

// Policy is the password policy.
//
// Length counts characters (Unicode code points after NFC normalisation), so
// "パスワード" is 5 and a single-code-point emoji is 1; every character,
// spaces included, is allowed. Character classes are upper-case letters,
// lower-case letters, digits, and "symbol", which takes everything else:
// punctuation, spaces, emoji, and letters without case such as kana, kanji
// and Hangul. So "とうきょう2024" has two classes (digit, symbol).
type Policy struct {
	MinLength  int // 0 = DefaultMinLength
	MaxLength  int // 0 = DefaultMaxLength
	MinClasses int // 0 = no class rule
	// RejectCommon refuses passwords of the embedded common-password list
	// (case-insensitive, full-width folded).
	RejectCommon bool
	// Breach, when set, is asked only about passwords that pass every other
	// rule, to spare the lookup for passwords refused anyway.
	Breach BreachChecker
}

// DefaultPolicy is the mileage-club policy: 8 to 128 characters, at least two
// character classes, no common passwords.
func DefaultPolicy() Policy {
	return Policy{MinLength: DefaultMinLength, MaxLength: DefaultMaxLength, MinClasses: 2, RejectCommon: true}
}

func (p Policy) lengths() (lo, hi int) {
	lo, hi = p.MinLength, p.MaxLength
	if lo <= 0 {
		lo = DefaultMinLength
	}
	if hi <= 0 {
		hi = DefaultMaxLength
	}
	return lo, hi
}

// Rules lists the rules of the policy, for display next to the field.
func (p Policy) Rules() []Violation {
	lo, hi := p.lengths()
	rules := []Violation{{Rule: RuleLength, Min: lo, Max: hi}}
	if p.MinClasses > 0 {
		rules = append(rules, Violation{Rule: RuleClasses, Min: p.MinClasses, Max: 4})
	}
	rules = append(rules, Violation{Rule: RuleMemberNumber}, Violation{Rule: RuleName})
	if p.RejectCommon {
		rules = append(rules, Violation{Rule: RuleCommon})
	}
	if p.Breach != nil {
		rules = append(rules, Violation{Rule: RuleBreached})
	}
	return rules
}

// Check returns the rules password breaks for member m (whose Number and
// names are looked for inside it); nil means the password is acceptable.
func (p Policy) Check(ctx context.Context, password string, m storage.Member) []Violation {
	pw := norm.NFC.String(password)
	var out []Violation
	lo, hi := p.lengths()
	if n := utf8.RuneCountInString(pw); n < lo || n > hi {
		out = append(out, Violation{Rule: RuleLength, Min: lo, Max: hi})
	}
	if p.MinClasses > 0 && charClasses(pw) < p.MinClasses {
		out = append(out, Violation{Rule: RuleClasses, Min: p.MinClasses, Max: 4})
	}
	folded := foldForMatch(pw)
	if m.Number != "" && strings.Contains(folded, m.Number) {
		out = append(out, Violation{Rule: RuleMemberNumber})
	}
	if containsName(folded, m) {
		out = append(out, Violation{Rule: RuleName})
	}
	if p.RejectCommon && isCommon(folded) {
		out = append(out, Violation{Rule: RuleCommon})
	}
	if len(out) == 0 && p.Breach != nil {
		// Errors are ignored on purpose: the breach check fails open.
		if hit, err := p.Breach.Breached(ctx, pw); err == nil && hit {
			out = append(out, Violation{Rule: RuleBreached})
		}
	}
	return out
}

// charClasses counts the classes present: upper, lower, digit, symbol.
func charClasses(s string) int {
	var upper, lower, digit, other bool
	for _, r := range s {
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{upper, lower, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// foldForMatch prepares text for the containment rules: NFC, full-width
// folded ("ＡＢＣ１" → "abc1") and case folded.
func foldForMatch(s string) string {
	return cases.Fold().String(width.Fold.String(norm.NFC.String(s)))
}

// containsName reports whether any part of the member's names (split at
// spaces and hyphens, at least minNamePart characters) occurs in folded.
func containsName(folded string, m storage.Member) bool {
	for _, name := range []string{m.FamilyName, m.GivenName, m.FamilyNameLatin, m.GivenNameLatin} {
		parts := strings.FieldsFunc(foldForMatch(name), func(r rune) bool {
			return unicode.IsSpace(r) || r == '-' || r == '\''
		})
		for _, part := range parts {
			if utf8.RuneCountInString(part) >= minNamePart && strings.Contains(folded, part) {
				return true
			}
		}
	}
	return false
}
