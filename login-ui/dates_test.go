package loginui

import (
	"testing"
	"time"
)

// TestAccountDatesPerLanguage: the account pages show times in the zone of
// the alerts, in each language's own format: history and devices (risk),
// passkeys, and linked apps (a date alone, its layout in the catalogs).
// 15:04 UTC on 30 June is already 1 July in Japan.
func TestAccountDatesPerLanguage(t *testing.T) {
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	jst := time.FixedZone("JST", 9*3600)
	at := time.Date(2025, 6, 30, 15, 4, 0, 0, time.UTC)
	security := &riskFeature{RiskOptions: RiskOptions{Location: jst}, cat: cat}
	passkeys := &passkeyFeature{PasskeyOptions: PasskeyOptions{Location: jst}, u: &UI{cat: cat}}
	for _, tt := range []struct{ lang, when, date string }{
		{"ja", "2025年7月1日 00:04", "2025年7月1日"},
		{"en", "1 Jul 2025 00:04", "1 Jul 2025"},
	} {
		for _, c := range []struct{ page, got, want string }{
			{"history and devices", security.when(tt.lang, at), tt.when},
			{"passkeys", passkeys.when(tt.lang, at), tt.when},
			{"linked apps", cat.formatTime(tt.lang, at, jst, true), tt.date},
		} {
			if c.got != c.want {
				t.Errorf("%s (%s): %q, want %q", c.page, tt.lang, c.got, c.want)
			}
		}
	}
	// A passkey never used shows the catalog's "not used yet", not year 1.
	if got := passkeys.when("en", time.Time{}); got != "" {
		t.Errorf("zero time: %q, want empty", got)
	}
}
