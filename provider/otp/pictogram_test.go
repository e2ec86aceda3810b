package otp

import (
	"errors"
	"strings"
	"testing"
	"tsubasa/provider/notify"
	"unicode/utf8"
)

func TestPictogramSpace(t *testing.T) {
	if n := len(pictograms); n < 32 {
		t.Fatalf("%d pictograms, want at least 32", n)
	}
	if c := combinations(FormatPictogram, 4); c < minCombinations {
		t.Fatalf("4 pictograms give %.0f codes, want at least %d", c, minCombinations)
	}
	if n := minPictogramLength(); n != 4 {
		t.Fatalf("shortest allowed length %d, want 4", n)
	}
	if c := combinations(FormatDigits, 0); c != 1e6 {
		t.Fatalf("digits give %.0f codes", c)
	}
	for _, tc := range []struct {
		length int
		ok     bool
	}{{3, false}, {4, true}, {8, true}, {maxPictogramLength, true}, {maxPictogramLength + 1, false}} {
		fx := newFixture(t, nil)
		o := fx.svc.o
		o.PictogramLength = tc.length
		_, err := NewService(fx.store, fx.svc.mail, fx.svc.sms, fx.svc.render, o)
		if (err == nil) != tc.ok {
			t.Errorf("length %d: %v", tc.length, err)
		}
		if tc.length == 3 && (err == nil || !strings.Contains(err.Error(), "use 4 or more")) {
			t.Errorf("length 3 error does not say what to use: %v", err)
		}
	}
}

func TestPictogramWordsUnique(t *testing.T) {
	for _, locale := range notify.Languages() {
		seen := map[string]int{}
		for _, p := range Pictograms(locale) {
			if p.Label == "" || p.Symbol == "" {
				t.Fatalf("%s: pictogram %d lacks a symbol or label", locale, p.Index)
			}
			k := fold(p.Label)
			if j, dup := seen[k]; dup {
				t.Errorf("%s: labels of %d and %d fold to %q", locale, j, p.Index, k)
			}
			seen[k] = p.Index
			if strings.IndexFunc(p.Label, isSeparator) >= 0 || strings.ContainsRune(p.Label, '-') {
				t.Errorf("%s: label %q holds a separator", locale, p.Label)
			}
			if isDigits(p.Label) {
				t.Errorf("%s: label %q reads as an index", locale, p.Label)
			}
		}
	}
	syms := map[string]bool{}
	for i, p := range Pictograms("en") {
		if p.Index != i {
			t.Fatalf("index %d at position %d", p.Index, i)
		}
		if syms[p.Symbol] {
			t.Errorf("symbol %s twice", p.Symbol)
		}
		syms[p.Symbol] = true
		if ja := Pictograms("ja-JP")[i]; ja.Symbol != p.Symbol || ja.Label == p.Label {
			t.Errorf("ja and en entries %d: %+v, %+v", i, ja, p)
		}
	}
	// Every word must parse back to its own pictogram (the words map
	// panics at start-up on a clash across languages and aliases).
	for i, p := range pictograms {
		words := append([]string{p.symbol, p.ja, p.en}, p.aliases...)
		for _, w := range pictogramWords {
			words = append(words, w[i])
		}
		for _, w := range words {
			if got, err := ParsePictogramInput([]string{w}); err != nil || got != canonicalPictograms([]int{i}) {
				t.Errorf("%q parses to %q, %v; want %d", w, got, err, i)
			}
		}
	}
	if n := utf8.RuneCountInString(string(halfKana)); n != 0xFF9D-0xFF61+1 {
		t.Fatalf("half-width kana table has %d entries", n)
	}
}

// TestPictogramWordsEveryLanguage: every language mail is written in has
// its own words under the symbols, not the English fallback.
func TestPictogramWordsEveryLanguage(t *testing.T) {
	for _, lang := range notify.Languages() {
		if lang == "ja" || lang == "en" {
			continue
		}
		if _, ok := pictogramWords[lang]; !ok {
			t.Errorf("no pictogram words for %s: add them to pictogramWords", lang)
			continue
		}
		for i, p := range Pictograms(lang) {
			if p.Label == pictograms[i].en {
				t.Errorf("%s pictogram %d shows the English %q", lang, i, p.Label)
			}
		}
	}
	if got := Pictograms("zh-TW")[6].Label; got != "貓" {
		t.Errorf("zh-TW shows cat as %q, want the Traditional 貓", got)
	}
}

func TestParsePictogramInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want string
	}{
		{"per-position indices", []string{"3", "17", "5", "29"}, "3.17.5.29"},
		{"indices with empty text field", []string{"0", "1", "2", "31", ""}, "0.1.2.31"},
		{"canonical", []string{"3.17.5.29"}, "3.17.5.29"},
		{"full-width indices", []string{"３", "１７"}, "3.17"},
		{"ja words", []string{"りんご ねこ くるま ほし"}, "0.6.19.16"},
		{"ja, ideographic space and 、", []string{"りんご　ねこ、くるま、ほし"}, "0.6.19.16"},
		{"ja run together", []string{"りんごねこくるまほし"}, "0.6.19.16"},
		{"katakana for hiragana", []string{"リンゴ ネコ"}, "0.6"},
		{"hiragana for katakana", []string{"ぱんだ ぺんぎん"}, "7.9"},
		{"half-width katakana", []string{"ﾘﾝｺﾞ ﾊﾟﾝﾀﾞ ﾎﾞｰﾙ"}, "0.7.28"},
		{"combining marks", []string{"りんこ\u3099 はﾟんた゛"}, "0.7"},
		{"long vowel as hyphen", []string{"ぼ-る", "ボール"}, "28.28"},
		{"en words", []string{"apple, cat, car, star"}, "0.6.19.16"},
		{"en any case", []string{"APPLE Cat"}, "0.6"},
		{"en full width", []string{"ＡＰＰＬＥ，ＣＡＴ"}, "0.6"},
		{"en run together", []string{"applecatcarstar"}, "0.6.19.16"},
		{"aliases", []string{"bike airplane home"}, "20.21.31"},
		{"mixed languages", []string{"りんご cat"}, "0.6"},
		{"symbols", []string{"🍎🐱🚗⭐"}, "0.6.19.16"},
		{"symbol without selector", []string{"✈ ✈️"}, "21.21"},
		{"sms echo", []string{"🍎(りんご) 🐱(ねこ) 🚗(くるま) ⭐(ほし)"}, "0.6.19.16"},
		{"mail echo", []string{"🍎 りんご", "ねこ 🐱"}, "0.6"},
		{"same word twice", []string{"りんご りんご"}, "0.0"},
		{"same symbol twice", []string{"🍎🍎"}, "0.0"},
		{"same index twice", []string{"0", "0"}, "0.0"},
		{"index next to a symbol", []string{"0", "🍎"}, "0.0"},
		{"camera is not turtle plus ra", []string{"かめら かめ"}, "30.11"},
		{"zh-Hans words with 、", []string{"苹果、猫、汽车、星星"}, "0.6.19.16"},
		{"zh-Hans full-width comma", []string{"苹果，熊猫，鱼"}, "0.7.10"},
		{"zh-Hant words", []string{"蘋果 貓 汽車 星星"}, "0.6.19.16"},
		{"zh run together, panda before cat", []string{"熊猫猫鱼火"}, "7.6.10.18"},
		{"zh sms echo", []string{"🍎(苹果) 🐱(猫)"}, "0.6"},
		{"ko words", []string{"사과, 고양이, 자동차, 별"}, "0.6.19.16"},
		{"ko run together", []string{"사과고양이배집"}, "0.6.22.31"},
		{"ko rainbow is one word", []string{"무지개 달"}, "17.15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePictogramInput(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParsePictogramInput(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParsePictogramInputErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
	}{
		{"nothing", nil},
		{"empty values", []string{"", " ", "、"}},
		{"unknown word", []string{"りんご ドラゴン"}},
		{"index out of range", []string{"32"}},
		{"negative index", []string{"-1"}},
		{"long index", []string{"0003"}},
		{"too many", []string{strings.Repeat("りんご ", maxPictogramLength+1)}},
		{"too long", []string{strings.Repeat("a", 2000)}},
		{"partial word", []string{"りん"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePictogramInput(tc.in)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("ParsePictogramInput(%q) = %q, %v; want ErrInvalidInput", tc.in, got, err)
			}
			if strings.Contains(err.Error(), "りん") || strings.Contains(err.Error(), "ドラゴン") {
				t.Fatalf("error repeats the input: %v", err)
			}
		})
	}
}

func TestCodesAreUniform(t *testing.T) {
	// Not a statistical test: every value must be reachable, and codes
	// keep their leading zeros and length.
	seen := make([]bool, len(pictograms))
	for range 4000 {
		n, err := uniform(uint32(len(pictograms)))
		if err != nil {
			t.Fatal(err)
		}
		seen[n] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("pictogram %d never drawn in 4000 draws", i)
		}
	}
	for range 200 {
		c, err := newCode(FormatDigits, 4)
		if err != nil || len(c.digits) != DigitsLength || !isDigits(c.digits) || c.pics != nil {
			t.Fatalf("digits code %#v, %v", c.digits, err)
		}
		p, err := newCode(FormatPictogram, 5)
		if err != nil || len(p.pics) != 5 || p.digits != "" {
			t.Fatalf("pictogram code of %d, %v", len(p.pics), err)
		}
	}
}
