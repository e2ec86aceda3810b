package config

import "time"

// PasskeyAppsConfig are the programme's own apps that share the website's
// passkeys: Tsubasa publishes them at /.well-known/apple-app-site-association
// (webcredentials) and /.well-known/assetlinks.json (get_login_creds), and
// accepts the Android apps' origin (android:apk-key-hash:…, from the
// signing certificate's fingerprint) in passkey ceremonies.
type PasskeyAppsConfig struct {
	// IOS are the iOS apps as Apple names them: team id, a dot, bundle id
	// (ABCDE12345.com.example.miles).
	IOS []string `yaml:"ios"`
	// Android are the Android apps, each a package and the SHA-256
	// fingerprints of its signing certificates.
	Android []AndroidAppConfig `yaml:"android"`
}

// AndroidAppConfig is one Android app.
type AndroidAppConfig struct {
	// Package is the application id (com.example.miles).
	Package string `yaml:"package"`
	// SHA256CertFingerprints are the signing certificates' SHA-256
	// fingerprints as keytool prints them: 32 bytes in hex, colon-separated.
	SHA256CertFingerprints []string `yaml:"sha256_cert_fingerprints"`
}

// GeoIPConfig is the operator's MaxMind GeoLite2 or GeoIP2 City database,
// which gives logins an approximate place (city, country) in alerts, the
// login history and the devices page.
type GeoIPConfig struct {
	// CityDB is the .mmdb file's path; empty = no places.
	CityDB string `yaml:"city_db"`
	// CheckEvery is how often the file's modification time is looked at;
	// a changed file is read again, without a restart.
	CheckEvery time.Duration `yaml:"check_every"`
}

// ContactsConfig governs the contacts page's test message ("send me a
// test message"), its "received it" link, and the reminder after login to
// check that the registered address still receives mail.
type ContactsConfig struct {
	// ConfirmEvery is how long a confirmation lasts: a member whose address
	// (or, without one, number) has not been confirmed for longer is asked
	// after login, at most once in 30 days, to check it. 0 = never ask.
	ConfirmEvery time.Duration `yaml:"confirm_every"`
	// TestInterval is the least time between two test messages of a member.
	TestInterval time.Duration `yaml:"test_interval"`
	// TestsPerDay is the most test messages a member gets in 24 hours.
	TestsPerDay int `yaml:"tests_per_day"`
	// LinkTTL is how long a test message's "received it" link works.
	LinkTTL time.Duration `yaml:"link_ttl"`
}

// Two keys of PasskeysConfig belong with the apps above:
//
//   - offer_after_login: after a password login, in a browser that can
//     create a passkey (its own script says so; never an in-app browser),
//     offer one: once, and at most every 30 days per browser; the member's
//     "not now" is remembered as long.
//   - conditional_create: where the browser supports it, create a passkey
//     without asking after the password manager filled the password
//     (WebAuthn mediation "conditional" on create), when the login itself
//     passed the one-time password a registration needs
//     (registration_requires). Off by default.
