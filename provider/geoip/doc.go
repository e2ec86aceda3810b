// Package geoip owns the approximate place of a client address: the city
// and country an operator-supplied MaxMind GeoLite2 or GeoIP2 City
// database (geoip.city_db) gives for it, in every language the pages speak,
// as a storage.Place. Alerts, the login history and the devices page show
// it; risk stores it with each login's event and device, so the history
// shows where a login was at the time.
//
// The file is read with maxminddb-golang (memory-mapped) at Open, and again
// when its modification time or size changes: Locate looks at the file at
// most once per Options.CheckEvery, in the request that happens to come
// then (one of them, never several, and no goroutine of its own), opens
// the new file, swaps it in and closes the old one once no lookup holds
// it. A file that fails to open is logged and the old one kept. Replace
// the file by renaming a new one over it, as geoipupdate does: a file
// rewritten in place changes under the mapping.
//
// Without a database (no path) Open returns a nil *DB, whose Locate gives
// the zero Place: places are simply absent, never an error. An address
// the database does not know (a private network, a database without it)
// is the zero Place too.
//
// Languages: each language tag the pages speak takes the database's name
// in that language, else the nearest it has, else English. GeoLite2 and
// GeoIP2 carry de, en, es, fr, ja, pt-BR, ru and zh-CN: Simplified Chinese
// reads zh-CN; Traditional Chinese reads zh-TW or zh-HK where a database
// has them and zh-CN otherwise (place names differ mostly in their
// characters' forms, which a Traditional reader recognises, and they are
// nearer than English); Korean, which the databases lack, reads English.
//
// A place is approximate: the database locates the network, not the
// device, and a VPN or proxy shows its own place (the alert says so).
// Nothing here is a security decision.
package geoip
