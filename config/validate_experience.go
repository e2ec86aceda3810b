package config

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// Apple's app id: a ten-character team id, a dot, the bundle id.
	iosAppID = regexp.MustCompile(`^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$`)
	// An Android application id: two or more Java-like segments.
	androidPackage = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$`)
	// A SHA-256 fingerprint as keytool prints it.
	sha256Fingerprint = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$`)
)

// maxRelatedLabels is how many registrable domain labels browsers read from
// /.well-known/webauthn (WebAuthn Level 3 §5.11); origins beyond them are
// silently ignored, so config refuses them.
const maxRelatedLabels = 5

// passkeyApps checks passkeys.apps and, with them, the origins' list as
// related origins: every origin in passkeys.origins may run ceremonies, the
// issuer's included (the hosted pages are there), at most five domain
// labels of them.
func (v *checker) passkeyApps(c Config) {
	apps := c.Passkeys.Apps
	for i, id := range apps.IOS {
		if !iosAppID.MatchString(id) {
			v.add("passkeys.apps.ios["+strconv.Itoa(i)+"]", "must be the team id, a dot and the bundle id, such as ABCDE12345.com.example.miles (got %q)", id)
		}
	}
	for i, a := range apps.Android {
		p := "passkeys.apps.android[" + strconv.Itoa(i) + "]"
		if !androidPackage.MatchString(a.Package) {
			v.add(p+".package", "must be the app's application id, such as com.example.miles (got %q)", a.Package)
		}
		if len(a.SHA256CertFingerprints) == 0 {
			v.add(p+".sha256_cert_fingerprints", "must list the SHA-256 fingerprint of at least one signing certificate")
		}
		for j, f := range a.SHA256CertFingerprints {
			if !sha256Fingerprint.MatchString(f) {
				v.add(p+".sha256_cert_fingerprints["+strconv.Itoa(j)+"]", "must be 32 bytes in hex separated by colons, as keytool -list -v prints the SHA256 line (got %q)", f)
			}
		}
	}
	origins := c.Passkeys.Origins
	if len(origins) == 0 {
		return
	}
	if iu, err := url.Parse(c.Issuer); err == nil && iu.Host != "" {
		issuerOrigin := iu.Scheme + "://" + iu.Host
		found := false
		for _, o := range origins {
			found = found || strings.EqualFold(strings.TrimSuffix(o, "/"), issuerOrigin)
		}
		if !found {
			v.add("passkeys.origins", "must include the issuer's origin %s, where the login pages run passkeys", issuerOrigin)
		}
	}
	labels := map[string]bool{}
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Hostname() != "" {
			labels[domainLabel(u.Hostname())] = true
		}
	}
	if len(labels) > maxRelatedLabels {
		v.add("passkeys.origins", "name %d different domains; browsers read only %d from /.well-known/webauthn", len(labels), maxRelatedLabels)
	}
}

// domainLabel is the label browsers count a related origin's host under:
// the one before the last (example of www.example.com), counting the
// two-label suffixes of a country (example.co.jp) as browsers do not, so
// the limit is met whichever way they count.
func domainLabel(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil {
		return host
	}
	parts := strings.Split(host, ".")
	if len(parts) < 2 {
		return host
	}
	return parts[len(parts)-2]
}

// geoip checks geoip: the file is read at start-up (Validate reads no
// files), so only the interval is judged here.
func (v *checker) geoip(g GeoIPConfig) {
	if g.CityDB != "" && strings.TrimSpace(g.CityDB) != g.CityDB {
		v.add("geoip.city_db", "must be a path without leading or trailing spaces")
	}
	if g.CheckEvery < time.Second {
		v.add("geoip.check_every", "must be at least 1s (how often the file's modification time is looked at)")
	}
}

// contacts checks the test message's limits and the reminder's period.
func (v *checker) contacts(c ContactsConfig) {
	if c.ConfirmEvery < 0 {
		v.add("contacts.confirm_every", "must not be negative (0 = never remind)")
	} else if c.ConfirmEvery > 0 && c.ConfirmEvery < 24*time.Hour {
		v.add("contacts.confirm_every", "must be at least 24h, or 0 to never remind: a reminder comes at most once in 30 days anyway")
	}
	v.positive("contacts.test_interval", c.TestInterval)
	v.between("contacts.tests_per_day", c.TestsPerDay, 1, 100)
	if c.LinkTTL < 10*time.Minute || c.LinkTTL > 30*24*time.Hour {
		v.add("contacts.link_ttl", "must be from 10m to 720h")
	}
}
