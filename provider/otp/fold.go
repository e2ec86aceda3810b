package otp

import (
	"strings"
	"unicode"
)

// halfKana is U+FF61..U+FF9D (half-width punctuation and katakana) in full
// width, indexed from U+FF61.
var halfKana = []rune("。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン")

// fold brings what a member types to one spelling, so the text fallback is
// case-, width- and kana-insensitive: full-width ASCII to ASCII, half-width
// katakana to full width, katakana to hiragana, voiced sound marks (spacing,
// combining or half-width) joined to their kana, every dash to the long
// vowel mark, letters to lower case, and emoji variation selectors dropped.
// It is a small, dependency-free subset of NFKC for the words of the set.
func fold(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\uFE0F' || r == '\uFE0E': // emoji / text presentation selectors
			continue
		case r >= '\uFF01' && r <= '\uFF5E': // full-width ASCII
			r -= 0xFEE0
		case r == '\u3000':
			r = ' '
		case r >= '\uFF61' && r <= '\uFF9D':
			r = halfKana[r-'\uFF61']
		case r == '\uFF9E' || r == '\u309B' || r == '\u3099':
			if n := len(out); n > 0 && voiced(out[n-1]) != 0 {
				out[n-1] = voiced(out[n-1])
			}
			continue
		case r == '\uFF9F' || r == '\u309C' || r == '\u309A':
			if n := len(out); n > 0 && semiVoiced(out[n-1]) != 0 {
				out[n-1] = semiVoiced(out[n-1])
			}
			continue
		}
		switch {
		case r >= '\u30A1' && r <= '\u30F6': // katakana to hiragana
			r -= 0x60
		case r == '-' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212' || r == '\u301C':
			r = 'ー'
		default:
			r = unicode.ToLower(r)
		}
		out = append(out, r)
	}
	return strings.TrimSpace(string(out))
}

// voiced returns the voiced form of a hiragana (か → が), or 0.
func voiced(r rune) rune {
	switch r {
	case 'か', 'き', 'く', 'け', 'こ', 'さ', 'し', 'す', 'せ', 'そ',
		'た', 'ち', 'つ', 'て', 'と', 'は', 'ひ', 'ふ', 'へ', 'ほ':
		return r + 1
	case 'う':
		return 'ゔ'
	}
	return 0
}

// semiVoiced returns the semi-voiced form of a hiragana (は → ぱ), or 0.
func semiVoiced(r rune) rune {
	switch r {
	case 'は', 'ひ', 'ふ', 'へ', 'ほ':
		return r + 2
	}
	return 0
}
