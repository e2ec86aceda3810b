package otp

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"tsubasa/provider/notify"
)

// Pictogram is one symbol of the pictogram format, with the word shown
// under it in the requested language.
type Pictogram struct {
	Index  int    // position in the set: the value an entry form posts
	Symbol string // emoji
	Label  string
}

// pictogram is one entry of the set. Aliases are extra words accepted by the
// text fallback, never shown.
type pictogram struct {
	symbol, ja, en string
	aliases        []string
}

// pictograms is the set, in display order. Its order is part of stored
// state (the canonical code is a list of indices): append, never reorder.
// The symbols are common emoji that render as colour pictures by default on
// every current phone and mail client, and look unlike one another; the
// words are short, single words, distinct in each language (and still
// distinct once kana and width are folded).
var pictograms = [...]pictogram{
	{"🍎", "りんご", "apple", nil},
	{"🍌", "バナナ", "banana", nil},
	{"🍇", "ぶどう", "grapes", []string{"grape"}},
	{"🍓", "いちご", "strawberry", nil},
	{"🍉", "すいか", "watermelon", nil},
	{"🐶", "いぬ", "dog", nil},
	{"🐱", "ねこ", "cat", nil},
	{"🐼", "パンダ", "panda", nil},
	{"🐘", "ぞう", "elephant", nil},
	{"🐧", "ペンギン", "penguin", nil},
	{"🐟", "さかな", "fish", nil},
	{"🐢", "かめ", "turtle", []string{"tortoise"}},
	{"🌸", "さくら", "blossom", []string{"sakura"}},
	{"🍄", "きのこ", "mushroom", nil},
	{"🌵", "サボテン", "cactus", nil},
	{"🌙", "つき", "moon", nil},
	{"⭐", "ほし", "star", nil},
	{"🌈", "にじ", "rainbow", nil},
	{"🔥", "ほのお", "fire", []string{"flame"}},
	{"🚗", "くるま", "car", nil},
	{"🚲", "じてんしゃ", "bicycle", []string{"bike"}},
	{"✈️", "ひこうき", "plane", []string{"airplane", "aeroplane"}},
	{"🚢", "ふね", "ship", []string{"boat"}},
	{"⏰", "とけい", "clock", nil},
	{"🔑", "かぎ", "key", nil},
	{"☔", "かさ", "umbrella", nil},
	{"🎁", "プレゼント", "gift", []string{"present"}},
	{"🎈", "ふうせん", "balloon", nil},
	{"⚽", "ボール", "ball", []string{"football", "soccer"}},
	{"🎸", "ギター", "guitar", nil},
	{"📷", "カメラ", "camera", nil},
	{"🏠", "いえ", "house", []string{"home"}},
}

// pictogramWords are the words of the set in the languages after
// Japanese and English, in the set's order (the array length keeps them
// in step with it): what a member of that language reads under each
// symbol, and what the text fallback accepts from anyone. A language with
// a mail catalog (notify.Languages) and no words here shows the English
// ones; a test fails on it.
var pictogramWords = map[string][len(pictograms)]string{
	"zh-Hans": {"苹果", "香蕉", "葡萄", "草莓", "西瓜", "狗", "猫", "熊猫", "大象", "企鹅", "鱼", "乌龟", "樱花", "蘑菇", "仙人掌", "月亮",
		"星星", "彩虹", "火", "汽车", "自行车", "飞机", "轮船", "闹钟", "钥匙", "雨伞", "礼物", "气球", "足球", "吉他", "相机", "房子"},
	"zh-Hant": {"蘋果", "香蕉", "葡萄", "草莓", "西瓜", "狗", "貓", "熊貓", "大象", "企鵝", "魚", "烏龜", "櫻花", "蘑菇", "仙人掌", "月亮",
		"星星", "彩虹", "火", "汽車", "腳踏車", "飛機", "輪船", "鬧鐘", "鑰匙", "雨傘", "禮物", "氣球", "足球", "吉他", "相機", "房子"},
	"ko": {"사과", "바나나", "포도", "딸기", "수박", "강아지", "고양이", "판다", "코끼리", "펭귄", "물고기", "거북이", "벚꽃", "버섯", "선인장", "달",
		"별", "무지개", "불", "자동차", "자전거", "비행기", "배", "시계", "열쇠", "우산", "선물", "풍선", "공", "기타", "카메라", "집"},
}

// maxPictogramLength bounds what ParsePictogramInput accepts, and the
// configurable length.
const maxPictogramLength = 10

// Pictograms returns the full set in display order with labels in the
// language of locale (notify.NormalizeLocale: Japanese when empty,
// English for a language with no words): the buttons of the entry page.
func Pictograms(locale string) []Pictogram {
	out := make([]Pictogram, len(pictograms))
	for i, p := range pictograms {
		out[i] = Pictogram{Index: i, Symbol: p.symbol, Label: label(i, locale)}
	}
	return out
}

// label is pictogram i's word in the language of locale.
func label(i int, locale string) string {
	switch lang := notify.NormalizeLocale(locale); lang {
	case notify.LocaleJA:
		return pictograms[i].ja
	case notify.LocaleEN:
		return pictograms[i].en
	default:
		if w, ok := pictogramWords[lang]; ok {
			return w[i]
		}
		return pictograms[i].en
	}
}

// words maps every folded symbol, label and alias to its index.
var words = func() map[string]int {
	m := make(map[string]int)
	for i, p := range pictograms {
		all := append([]string{p.symbol, p.ja, p.en}, p.aliases...)
		for _, lang := range slices.Sorted(maps.Keys(pictogramWords)) {
			all = append(all, pictogramWords[lang][i])
		}
		for _, w := range all {
			k := fold(w)
			if j, dup := m[k]; dup && j != i {
				panic("otp: pictogram word " + w + " is not unique")
			}
			m[k] = i
		}
	}
	return m
}()

// symbols holds the folded symbols, to tell a symbol from a word.
var symbols = func() map[string]bool {
	m := make(map[string]bool)
	for _, p := range pictograms {
		m[fold(p.symbol)] = true
	}
	return m
}()

// maxWordRunes is the longest folded word, bounding the segmentation search.
var maxWordRunes = func() int {
	n := 0
	for w := range words {
		n = max(n, len([]rune(w)))
	}
	return n
}()

// ParsePictogramInput turns what the entry form posted into the canonical
// code: the indices joined by dots, e.g. "3.17.5.29". values holds either
// one index per position from the pictogram buttons ("3", "17", …) or the
// text fallback: words in any language of the set separated by spaces,
// commas or 、, in any case, full or half width, kana as hiragana or katakana, run
// together or not; pasted symbols work too, and a symbol followed by its
// own word (as in the SMS, "🍎(りんご)") counts once. Empty values are
// ignored, so post the values of one entry method only. The length is not
// checked here: Verify compares it with the challenge.
func ParsePictogramInput(values []string) (string, error) {
	var total int
	for _, v := range values {
		total += len(v)
	}
	if total > 1024 {
		return "", fmt.Errorf("%w: too long", ErrInvalidInput)
	}
	var seq []piece
	for _, v := range values {
		for _, tok := range strings.FieldsFunc(fold(v), isSeparator) {
			ps, ok := parseToken(tok)
			if !ok {
				return "", fmt.Errorf("%w: item %d is not a pictogram", ErrInvalidInput, len(seq)+1)
			}
			seq = append(seq, ps...)
		}
	}
	seq = mergeEcho(seq)
	if len(seq) == 0 {
		return "", fmt.Errorf("%w: empty", ErrInvalidInput)
	}
	if len(seq) > maxPictogramLength {
		return "", fmt.Errorf("%w: more than %d pictograms", ErrInvalidInput, maxPictogramLength)
	}
	idx := make([]int, len(seq))
	for i, p := range seq {
		idx[i] = p.index
	}
	return canonicalPictograms(idx), nil
}

// canonicalPictograms is the code string that is hashed: "3.17.5.29".
func canonicalPictograms(idx []int) string {
	var b strings.Builder
	for i, n := range idx {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// piece is one pictogram found in the input, and how it was written.
type piece struct {
	index int
	kind  pieceKind
}

type pieceKind byte

const (
	asIndex pieceKind = iota
	asWord
	asSymbol
)

// parseToken reads one separator-free token: an index, or one or more
// symbols and words written together (found by a longest-first search).
func parseToken(tok string) ([]piece, bool) {
	if isDigits(tok) {
		if len(tok) > 3 {
			return nil, false
		}
		n, _ := strconv.Atoi(tok)
		if n >= len(pictograms) {
			return nil, false
		}
		return []piece{{index: n, kind: asIndex}}, true
	}
	r := []rune(tok)
	if len(r) > 256 {
		return nil, false
	}
	// dead[i]: no segmentation of r[i:] exists, so the search is linear.
	dead := make([]bool, len(r)+1)
	var walk func(i int) ([]piece, bool)
	walk = func(i int) ([]piece, bool) {
		if i == len(r) {
			return nil, true
		}
		if dead[i] {
			return nil, false
		}
		for n := min(maxWordRunes, len(r)-i); n > 0; n-- {
			w := string(r[i : i+n])
			idx, ok := words[w]
			if !ok {
				continue
			}
			if rest, ok := walk(i + n); ok {
				kind := asWord
				if symbols[w] {
					kind = asSymbol
				}
				return append([]piece{{index: idx, kind: kind}}, rest...), true
			}
		}
		dead[i] = true
		return nil, false
	}
	return walk(0)
}

// mergeEcho collapses a symbol next to its own word ("🍎 りんご",
// "りんご🍎") into one pictogram, so text copied from an SMS or mail works.
func mergeEcho(seq []piece) []piece {
	out := seq[:0:0]
	for i := 0; i < len(seq); i++ {
		p := seq[i]
		if i+1 < len(seq) && seq[i+1].index == p.index && p.kind != asIndex &&
			seq[i+1].kind != asIndex && seq[i+1].kind != p.kind {
			i++
		}
		out = append(out, p)
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isSeparator splits the text fallback. "-" is not one: it may stand for
// the long vowel mark (ボール typed as "ぼ-る").
func isSeparator(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	switch r {
	case ',', '.', ';', '/', '(', ')', '[', ']', '、', '。', '・', '「', '」', '（', '）':
		return true
	}
	return false
}
