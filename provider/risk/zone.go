package risk

import "time"

// countryZones are the zones of countries of residence that keep one clock
// across the whole country: there a member's own time is known from the
// country alone. Countries with several zones (the United States,
// Australia, Indonesia …) are left out, so their members read the
// service's time only rather than a guess.
var countryZones = map[string]string{
	"JP": "Asia/Tokyo", "KR": "Asia/Seoul", "CN": "Asia/Shanghai", "TW": "Asia/Taipei",
	"HK": "Asia/Hong_Kong", "MO": "Asia/Macau", "SG": "Asia/Singapore", "TH": "Asia/Bangkok",
	"VN": "Asia/Ho_Chi_Minh", "PH": "Asia/Manila", "MY": "Asia/Kuala_Lumpur", "IN": "Asia/Kolkata",
	"GB": "Europe/London", "FR": "Europe/Paris", "DE": "Europe/Berlin", "IT": "Europe/Rome",
	"ES": "Europe/Madrid", "NL": "Europe/Amsterdam", "CH": "Europe/Zurich", "FI": "Europe/Helsinki",
	"AE": "Asia/Dubai", "QA": "Asia/Qatar", "IL": "Asia/Jerusalem",
}

// memberZone is the zone of a member's country of residence, or nil when
// the country has several (or is unknown).
func memberZone(country string) *time.Location {
	name, ok := countryZones[country]
	if !ok {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil // no zone database: the service's time alone
	}
	return loc
}
