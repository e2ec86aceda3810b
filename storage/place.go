package storage

// Place is roughly where a client address was when it was seen: the city
// and country the operator's GeoIP database gave for it (provider/geoip),
// in every language the pages speak, so the login history and the devices
// page show what the database said then even after it changed. The zero
// Place is "unknown" (no database configured, or the address not in it).
type Place struct {
	Country string            // ISO 3166-1 alpha-2 code, e.g. JP
	Names   map[string]string // language tag (ja, en, zh-Hans …) → country name
	Cities  map[string]string // language tag → city name; none when only the country is known
}

// IsZero reports whether the place is unknown.
func (p Place) IsZero() bool { return p.Country == "" && len(p.Names) == 0 && len(p.Cities) == 0 }
