package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/geoip/geoiptest"
	"tsubasa/provider/notify/notifytest"
)

// headerTransport makes a Browser send fixed headers (a proxy's
// X-Forwarded-For, a User-Agent).
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// behindProxy is a browser whose requests reach the server through the
// trusted proxy on 127.0.0.1, which says the client is addr.
func behindProxy(t *testing.T, s *Server, addr, ua string) *Browser {
	b := NewBrowser(t, s)
	b.Transport = headerTransport{"X-Forwarded-For": addr, "User-Agent": ua}
	return b
}

// writeCities writes the suite's GeoIP database: the proxy's own network
// in Tokyo, 203.0.113.0/24 in the given place.
func writeCities(t *testing.T, path string, client geoiptest.Network) {
	t.Helper()
	if err := geoiptest.Write(path, geoiptest.Tokyo("127.0.0.0/8"), client); err != nil {
		t.Fatal(err)
	}
}

// TestLoginPlaces: with geoip.city_db, a login's approximate place, from
// the client address derived behind the trusted proxy (not the proxy's
// own), is in the alert (the member's language first), the login history
// and the devices page (its last login's). The operator replaces the
// database; the server reads it again without a restart, so the next
// login has the new place while the history keeps where the first one was
// at the time.
func TestLoginPlaces(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	db := filepath.Join(t.TempDir(), "GeoLite2-City.mmdb")
	writeCities(t, db, geoiptest.Osaka("203.0.113.0/24"))
	s := startWithMail(t, smtp, Options{Extra: "trusted_proxies: [127.0.0.1]\ngeoip:\n  city_db: " + db + "\n  check_every: 1s\n"})
	rp := NewRP(t, s, "web", "web-secret-0123456789")

	first := behindProxy(t, s, "203.0.113.5", uaWindowsChrome)
	LoginRP(t, rp, first)
	mail := waitAlert(t, smtp, "chrome", 30*time.Second)
	for _, want := range []string{"[IP address] 203.0.113.5\n", "[Location] 大阪市（日本）\n", "VPN"} {
		if !strings.Contains(mail.Text, want) {
			t.Errorf("alert lacks %q:\n%s", want, mail.Text)
		}
	}
	if !strings.Contains(mail.HTML, "大阪市（日本）") {
		t.Error("the alert's HTML part lacks the place")
	}

	// The database changes: 203.0.113.0/24 is now in Tokyo.
	writeCities(t, db, geoiptest.Tokyo("203.0.113.0/24"))
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(db, later, later); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // check_every
	second := behindProxy(t, s, "203.0.113.6", uaIPhoneSafari)
	LoginRP(t, rp, second) // the lookup that notices the change may still use the old file
	third := behindProxy(t, s, "203.0.113.7", uaMacFirefox)
	LoginRP(t, rp, third)
	mail = waitAlert(t, smtp, "firefox", 30*time.Second)
	if !strings.Contains(mail.Text, "[Location] 東京（日本）\n") {
		t.Errorf("after the database changed, the alert lacks Tokyo:\n%s", mail.Text)
	}

	accountPage(t, first, smtp, s.Issuer+"/account/history")
	history := first.Get(t, s.Issuer+"/account/history?lang=en")
	for _, want := range []string{"Approximate location", "Osaka, Japan", "Tokyo, Japan", "VPN"} {
		if !strings.Contains(history.Body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	devices := first.Get(t, s.Issuer+"/account/devices?lang=ja")
	// A device shows its last login's place: the first browser's step-up
	// for these pages was a login too, from Tokyo by then.
	for _, want := range []string{"おおよその場所", "東京（日本）"} {
		if !strings.Contains(devices.Body, want) {
			t.Errorf("devices page lacks %q", want)
		}
	}
}

// TestLoginPlacesWithoutDatabase: without geoip.city_db nothing about
// places shows, and nothing fails; an unreadable one stops the start with
// the key's name.
func TestLoginPlacesWithoutDatabase(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	s := startWithMail(t, smtp, Options{})
	b := newDevice(t, s, uaWindowsChrome)
	LoginRP(t, NewRP(t, s, "web", "web-secret-0123456789"), b)
	if mail := waitAlert(t, smtp, "chrome", 30*time.Second); strings.Contains(mail.Text, "Location") {
		t.Errorf("an alert without a database names a location:\n%s", mail.Text)
	}
	if h := accountPage(t, b, smtp, s.Issuer+"/account/history"); strings.Contains(h.Body, "おおよその場所") {
		t.Error("the history shows places without a database")
	}

	if out := ServeFails(t, Options{Extra: "geoip:\n  city_db: " + filepath.Join(t.TempDir(), "missing.mmdb") + "\n"}); !strings.Contains(out, "geoip.city_db") {
		t.Errorf("a missing database: the start failed without naming geoip.city_db:\n%s", out)
	}
}
