package risk

import (
	"testing"
	"time"
)

// TestMemberZone: every listed country's zone loads (the binary carries
// the zone database), and a country of several zones has none.
func TestMemberZone(t *testing.T) {
	for country := range countryZones {
		if memberZone(country) == nil {
			t.Errorf("%s: zone %s does not load", country, countryZones[country])
		}
	}
	at := time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC)
	if _, off := at.In(memberZone("TW")).Zone(); off != 8*3600 {
		t.Errorf("TW offset %d", off)
	}
	for _, c := range []string{"US", "AU", "", "XX"} {
		if memberZone(c) != nil {
			t.Errorf("%q has a zone", c)
		}
	}
}
