package geoip

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/geoip/geoiptest"
	"tsubasa/storage"
	"tsubasa/storage/storagetest"
)

var langs = []string{"ja", "en", "zh-Hans", "zh-Hant", "ko"}

func openTest(t *testing.T, path string, clock *storagetest.Clock) *DB {
	t.Helper()
	d, err := Open(Options{Path: path, Languages: langs, CheckEvery: time.Minute, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestLocate: an address in the database is named in every page language
// (Korean from English, both Chinese from zh-CN); an address outside it,
// a malformed one, or no database at all give the zero Place.
func TestLocate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geoiptest.Write(path, geoiptest.Tokyo("203.0.113.0/24"), geoiptest.Tokyo("2001:db8::/32"),
		geoiptest.Network{CIDR: "198.51.100.0/24", Country: "US", Names: map[string]string{"en": "United States", "ja": "アメリカ"}}); err != nil {
		t.Fatal(err)
	}
	d := openTest(t, path, storagetest.NewClock(time.Now()))
	tokyo := storage.Place{Country: "JP",
		Names:  map[string]string{"ja": "日本", "en": "Japan", "zh-Hans": "日本", "zh-Hant": "日本", "ko": "Japan"},
		Cities: map[string]string{"ja": "東京", "en": "Tokyo", "zh-Hans": "东京", "zh-Hant": "东京", "ko": "Tokyo"}}
	for ip, want := range map[string]storage.Place{
		"203.0.113.9":        tokyo,
		"::ffff:203.0.113.9": tokyo,
		"2001:db8::1":        tokyo,
		"198.51.100.1": {Country: "US", Names: map[string]string{"ja": "アメリカ", "en": "United States",
			"zh-Hans": "United States", "zh-Hant": "United States", "ko": "United States"}},
		"192.0.2.1":       {},
		"10.0.0.1":        {},
		"not an ip":       {},
		"":                {},
		"203.0.113.9:443": {},
	} {
		if got := d.Locate(ip); !reflect.DeepEqual(got, want) {
			t.Errorf("Locate(%q) = %+v, want %+v", ip, got, want)
		}
	}
	var none *DB
	if got := none.Locate("203.0.113.9"); !got.IsZero() {
		t.Errorf("no database located %+v", got)
	}
	if d, err := Open(Options{}); d != nil || err != nil {
		t.Errorf("Open without a path = %v, %v; want nil, nil", d, err)
	}
}

// TestOpenRefuses: a missing file, one that is not a database, and a
// database of another kind are errors at Open, naming the file.
func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mmdb")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), junk} {
		if _, err := Open(Options{Path: path}); err == nil {
			t.Errorf("Open(%s) accepted", path)
		}
	}
}

// TestReload: a database replaced on disk is read again at the first
// lookup after CheckEvery, not before; one replaced by garbage keeps the
// old one; lookups racing the swap see one database or the other.
func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geoiptest.Write(path, geoiptest.Tokyo("203.0.113.0/24")); err != nil {
		t.Fatal(err)
	}
	clock := storagetest.NewClock(time.Now())
	d := openTest(t, path, clock)
	city := func() string { return d.Locate("203.0.113.9").Cities["en"] }
	if got := city(); got != "Tokyo" {
		t.Fatalf("first database: %q", got)
	}
	if err := geoiptest.Write(path, geoiptest.Osaka("203.0.113.0/24")); err != nil {
		t.Fatal(err)
	}
	// A different size or time tells the files apart; make sure of the time.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := city(); got != "Tokyo" {
		t.Errorf("before CheckEvery: %q, want the old database", got)
	}
	clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if c := city(); c != "Tokyo" && c != "Osaka" {
				t.Errorf("a lookup during the swap saw %q", c)
			}
		})
	}
	wg.Wait()
	if got := city(); got != "Osaka" {
		t.Errorf("after CheckEvery: %q, want the new database", got)
	}
	// Replaced as the package doc says (a rename), but by garbage.
	broken := path + ".new"
	if err := os.WriteFile(broken, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(broken, path); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if got := city(); got != "Osaka" {
		t.Errorf("after a broken replacement: %q, want the database it had", got)
	}
}
