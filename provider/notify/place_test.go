package notify

import (
	"strings"
	"testing"

	"tsubasa/storage"
)

// TestLoginAlertPlace: a login alert shows the approximate place in the
// mail's language (the member's, which leads the facts), English names
// where the database had none in it, and no place line when unknown.
func TestLoginAlertPlace(t *testing.T) {
	r := newTestRenderer(t)
	d := sampleLoginAlert()
	d.Place = storage.Place{Country: "JP",
		Names:  map[string]string{"ja": "日本", "en": "Japan", "zh-Hans": "日本", "zh-Hant": "日本"},
		Cities: map[string]string{"ja": "東京", "en": "Tokyo", "zh-Hans": "东京", "zh-Hant": "东京"}}
	for lang, want := range map[string]string{
		"ja":      "[Location] 東京（日本）",
		"en":      "[Location] Tokyo, Japan",
		"zh-Hans": "[大致位置 Location] 东京，日本",
		"zh-Hant": "[大致位置 Location] 东京，日本",
		"ko":      "[대략적인 위치 Location] Tokyo, Japan",
	} {
		_, text, html, err := r.Render(KindLoginAlert, lang, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, want) {
			t.Errorf("%s text lacks %q:\n%s", lang, want, text)
		}
		if place := strings.TrimPrefix(want[strings.Index(want, "] ")+2:], ""); !strings.Contains(html, place) {
			t.Errorf("%s HTML lacks %q", lang, place)
		}
	}
	d.Place = storage.Place{Country: "US", Names: map[string]string{"en": "United States"}}
	if _, text, _, _ := r.Render(KindLoginAlert, "ja", d); !strings.Contains(text, "[Location] United States\n") {
		t.Errorf("a country alone, in English where the database had no Japanese:\n%s", text)
	}
	d.Place = storage.Place{}
	if _, text, html, _ := r.Render(KindLoginAlert, "ja", d); strings.Contains(text, "Location") || strings.Contains(html, "Location") {
		t.Errorf("an unknown place shows a Location line:\n%s", text)
	}
}
