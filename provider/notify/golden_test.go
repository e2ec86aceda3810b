package notify

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMailGolden pins every mail kind in every shipped language, text and
// HTML, to a reviewed file under testdata: the wording a member reads
// changes only with a diff someone looked at (go test -update rewrites
// them).
func TestMailGolden(t *testing.T) {
	r := newTestRenderer(t)
	for _, lang := range Languages() {
		for kind, data := range sampleData() {
			t.Run(kind+"/"+lang, func(t *testing.T) {
				subject, text, html, err := r.Render(kind, lang, data)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, kind+"."+lang+".txt", "Subject: "+subject+"\n\n"+text)
				checkGolden(t, kind+"."+lang+".html", html)
			})
		}
	}
}

// TestMailLanguage: a member's or a page's tag picks the mail's language
// the way the pages pick theirs; no preference is the fallback, and a
// language the deployment does not speak is English where it does.
func TestMailLanguage(t *testing.T) {
	all := newTestRenderer(t)
	jaEn, err := NewRendererWith(RendererOptions{Languages: []string{"ja", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	koOnly, err := NewRendererWith(RendererOptions{Languages: []string{"ko"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r         *Renderer
		tag, want string
	}{
		{all, "", "ja"}, {all, "ja-JP", "ja"}, {all, "en-GB", "en"}, {all, "fr", "en"},
		{all, "zh-CN", "zh-Hans"}, {all, "zh-SG", "zh-Hans"}, {all, "zh", "zh-Hans"}, {all, "zh_CN", "zh-Hans"},
		{all, "zh-TW", "zh-Hant"}, {all, "zh-HK", "zh-Hant"}, {all, "zh-Hant", "zh-Hant"},
		{all, "ko-KR", "ko"}, {all, "ko", "ko"},
		{jaEn, "zh-TW", "en"}, {jaEn, "ko", "en"}, {jaEn, "", "ja"},
		{koOnly, "ja", "ko"}, {koOnly, "", "ko"},
	} {
		if got := tc.r.Language(tc.tag); got != tc.want {
			t.Errorf("Language(%q) with %v = %q, want %q", tc.tag, tc.r.langs.langs, got, tc.want)
		}
	}
	if _, err := NewRendererWith(RendererOptions{Languages: []string{"ja", "fr"}}); err == nil || !strings.Contains(err.Error(), `"fr"`) {
		t.Errorf("a language without a catalog: %v, want an error naming it", err)
	}
}

// TestMailBilingualOrder: an alert is the member's language, then
// English (Japanese for an English member); a Korean-only deployment
// writes it in Korean alone.
func TestMailBilingualOrder(t *testing.T) {
	r := newTestRenderer(t)
	kana := func(r rune) bool { return r >= 0x3041 && r <= 0x30fa }
	hangul := func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }
	for _, tc := range []struct{ lang, first, second string }{
		{"zh-Hans", "我们检测到", "We have detected"},
		{"zh-Hant", "我們偵測到", "We have detected"},
		{"ko", "확인되었습니다", "We have detected"},
		{"ja", "新しいご利用環境", "We have detected"},
		{"en", "We have detected", "新しいご利用環境"},
	} {
		_, text, html, err := r.Render(KindLoginAlert, tc.lang, sampleLoginAlert())
		if err != nil {
			t.Fatal(err)
		}
		i, j := strings.Index(text, tc.first), strings.Index(text, tc.second)
		if i < 0 || j < 0 || i > j {
			t.Errorf("%s alert: %q at %d, %q at %d; want the first before the second:\n%s", tc.lang, tc.first, i, tc.second, j, text)
		}
		if tc.lang != "ja" && tc.lang != "en" && strings.ContainsFunc(text, kana) {
			t.Errorf("%s alert holds Japanese:\n%s", tc.lang, text)
		}
		if !strings.Contains(html, `<html lang="`+tc.lang+`">`) {
			t.Errorf("%s alert html is not lang=%s", tc.lang, tc.lang)
		}
	}
	ko, err := NewRendererWith(RendererOptions{Languages: []string{"ko"}})
	if err != nil {
		t.Fatal(err)
	}
	subject, text, _, err := ko.Render(KindLoginAlert, "ko", sampleLoginAlert())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "We have detected") || strings.Contains(subject, "/") || !strings.ContainsFunc(subject, hangul) {
		t.Errorf("a Korean-only deployment's alert is not Korean alone: %s\n%s", subject, text)
	}
}

// TestMailFooterLinks: with the programme's help, privacy and terms pages
// configured, every mail in every language links them, in text and HTML.
func TestMailFooterLinks(t *testing.T) {
	links := Links{Support: "https://help.example/", Privacy: "https://sora.example/privacy", Terms: "https://sora.example/terms"}
	r, err := NewRendererWith(RendererOptions{Links: links})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages() {
		for kind, data := range sampleData() {
			_, text, html, err := r.Render(kind, lang, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{links.Support, links.Privacy, links.Terms} {
				if !strings.Contains(text, "\n"+u+"\n") || !strings.Contains(html, `href="`+u+`"`) {
					t.Errorf("%s %s lacks the link %s", kind, lang, u)
				}
			}
		}
	}
}

var mailVerbRe = regexp.MustCompile(`%(\[\d+\])?[a-z]`)

// TestMailCatalogPlaceholders: every language has every key of the
// Japanese catalog (the constructor refuses less), and a translation
// prints the numbers the Japanese does (a brand it may leave out: its
// sentence may not need it).
func TestMailCatalogPlaceholders(t *testing.T) {
	cat, err := loadMailCatalogs(catalogFS)
	if err != nil {
		t.Fatal(err)
	}
	if miss := cat.missing(); len(miss) > 0 {
		t.Fatalf("missing: %v", miss)
	}
	count := func(s, verb string) int {
		n := 0
		for _, m := range mailVerbRe.FindAllString(s, -1) {
			if strings.HasSuffix(m, verb) {
				n++
			}
		}
		return n
	}
	for lang, m := range cat {
		for k, v := range m {
			ref := cat["ja"][k]
			if count(v, "d") != count(ref, "d") {
				t.Errorf("%s %s: %d numbers, the Japanese %d", lang, k, count(v, "d"), count(ref, "d"))
			}
			if strings.Contains(k, ".reason.") || k == "mail.when_layout" {
				continue
			}
			if n := len(mailVerbRe.FindAllString(v, -1)); n > len(mailVerbRe.FindAllString(ref, -1)) && n > len(mailVerbRe.FindAllString(cat["en"][k], -1)) {
				t.Errorf("%s %s takes more values than the template gives: %q", lang, k, v)
			}
		}
	}
}

// TestMailMemberZone: an alert for a member whose own zone is known shows
// the moment there too, when its clock differs from the service's; a
// member in Korea (the same clock as Japan) reads one time.
func TestMailMemberZone(t *testing.T) {
	r := newTestRenderer(t)
	taipei := time.FixedZone("Asia/Taipei", 8*3600)
	seoul := time.FixedZone("Asia/Seoul", 9*3600)
	india := time.FixedZone("Asia/Kolkata", 5*3600+1800)
	for _, tc := range []struct {
		lang string
		own  *time.Location
		want string
	}{
		{"zh-Hant", taipei, "[日期時間 Date/Time] 2025年7月1日 00:00 (JST) / 2025年6月30日 23:00 (UTC+8)\n"},
		{"ko", seoul, "[일시 Date/Time] 2025년 7월 1일 00:00 (JST)\n"},
		{"en", india, "[Date/Time] 2025/07/01 00:00:00(JST) / 2025/06/30 20:30:00(UTC+5:30)\n"},
		{"ja", nil, "[Date/Time] 2025/07/01 00:00:00(JST)\n"},
	} {
		d := sampleLoginAlert()
		d.MemberLocation = tc.own
		_, text, html, err := r.Render(KindLoginAlert, tc.lang, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s, member zone %v: text lacks %q:\n%s", tc.lang, tc.own, tc.want, text)
		}
		if tc.own == taipei && !strings.Contains(html, "2025年6月30日 23:00 (UTC&#43;8)") {
			t.Errorf("html lacks the member's time")
		}
	}
}
