package member

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"tsubasa/storage"
)

type fakeBreach struct {
	hit bool
	err error
	n   int
}

func (f *fakeBreach) Breached(context.Context, string) (bool, error) {
	f.n++
	return f.hit, f.err
}

func rules(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	return out
}

func TestPolicyCheck(t *testing.T) {
	m := storage.Member{Number: "1234567", FamilyName: "山田", GivenName: "はなこ",
		FamilyNameLatin: "YAMADA", GivenNameLatin: "MARY-ANN"}
	p := DefaultPolicy()
	for _, tc := range []struct {
		name, pw string
		want     []string
	}{
		{"ok ascii", "Blue-Crane-42", nil},
		{"ok spaces", "correct horse battery", nil},
		{"ok japanese with digits", "とうきょうの空2024", nil},      // symbol + digit classes
		{"ok emoji one char each", "🛫🛬🛫🛬🛫🛬🛫a", nil},          // 8 characters, two classes
		{"too short emoji", "🛫🛬🛫🛬🛫🛬a", []string{RuleLength}}, // 7 characters though 25 bytes
		{"exactly 8", "abcdefG1", nil},
		{"7 chars", "abcdeG1", []string{RuleLength}},
		{"128 chars", strings.Repeat("aB", 64), nil},
		{"129 chars", strings.Repeat("aB", 64) + "c", []string{RuleLength}},
		{"nfd counted as nfc", "Cafe\u0301cafe\u0301", nil},            // é as e+combining accent: 8 chars after NFC
		{"nfd short after nfc", "Cafe\u0301caf", []string{RuleLength}}, // 8 code points, 7 after NFC
		{"one class", "abcdefghij", []string{RuleClasses}},
		{"only kanji is one class", "東京大阪名古屋福岡", []string{RuleClasses}},
		{"upper and lower unicode", "ÉCOLEécole", nil},
		{"member number", "xx1234567yy", []string{RuleMemberNumber}},
		{"member number full width", "ｘｘ１２３４５６７ｙ", []string{RuleMemberNumber}},
		{"latin name any case", "iloveYamada!", []string{RuleName}},
		{"hyphenated name part", "Ann-is-great1", []string{RuleName}},
		{"kana given name", "わたしはなこ123", []string{RuleName}},
		{"two-kanji name too short to check", "山田さん2024ok", nil},
		{"common", "password123", []string{RuleCommon}},
		{"common case-insensitive", "PassWord123", []string{RuleCommon}},
		{"keyboard walk", "Qwertyuiop", []string{RuleCommon}},
		{"several at once", "yamada", []string{RuleLength, RuleClasses, RuleName, RuleCommon}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rules(p.Check(t.Context(), tc.pw, m))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Check(%q) = %v, want %v", tc.pw, got, tc.want)
			}
		})
	}
}

func TestPolicyViolationNumbers(t *testing.T) {
	p := Policy{MinLength: 10, MaxLength: 64, MinClasses: 3}
	got := p.Check(t.Context(), "abc", storage.Member{})
	want := []Violation{{Rule: RuleLength, Min: 10, Max: 64}, {Rule: RuleClasses, Min: 3, Max: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPolicyBreach(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pw       string
		breach   fakeBreach
		want     []string
		wantAsks int
	}{
		{"breached", "Blue-Crane-42", fakeBreach{hit: true}, []string{RuleBreached}, 1},
		{"clean", "Blue-Crane-42", fakeBreach{}, nil, 1},
		{"checker error fails open", "Blue-Crane-42", fakeBreach{hit: true, err: errors.New("down")}, nil, 1},
		{"not asked when already refused", "short", fakeBreach{hit: true}, []string{RuleLength, RuleClasses}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Breach = &tc.breach
			if got := rules(p.Check(t.Context(), tc.pw, storage.Member{})); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if tc.breach.n != tc.wantAsks {
				t.Errorf("checker asked %d times, want %d", tc.breach.n, tc.wantAsks)
			}
		})
	}
}

func TestPolicyRules(t *testing.T) {
	p := DefaultPolicy()
	p.Breach = &fakeBreach{}
	want := []Violation{
		{Rule: RuleLength, Min: 8, Max: 128}, {Rule: RuleClasses, Min: 2, Max: 4},
		{Rule: RuleMemberNumber}, {Rule: RuleName}, {Rule: RuleCommon}, {Rule: RuleBreached},
	}
	if got := p.Rules(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rules() = %+v, want %+v", got, want)
	}
	if got := (Policy{}).Rules(); got[0] != (Violation{Rule: RuleLength, Min: 8, Max: 128}) || len(got) != 3 {
		t.Errorf("zero Policy Rules() = %+v", got)
	}
}

func TestCommonListLoaded(t *testing.T) {
	if n := len(commonSet()); n < 2000 {
		t.Fatalf("common list has %d entries, want thousands", n)
	}
	for _, pw := range []string{"123456", "password", "qwerty123", "1qaz2wsx", "sakura2024", "p@ssw0rd"} {
		if !isCommon(foldForMatch(pw)) {
			t.Errorf("%q not on the common list", pw)
		}
	}
}
