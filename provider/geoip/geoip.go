package geoip

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"tsubasa/storage"
)

// Options configure a DB.
type Options struct {
	// Path is the .mmdb file; empty means no database (Open returns nil).
	Path string
	// Languages are the tags places are named in (ui.languages) [en].
	Languages []string
	// CheckEvery is how often the file is looked at for a change [1m].
	CheckEvery time.Duration
	Now        func() time.Time // [time.Now]
	Logger     *slog.Logger     // [slog.Default()]
}

// DB locates client addresses. A nil *DB locates nothing. It is safe for
// concurrent use.
type DB struct {
	o     Options
	langs map[string][]string // our tag → database languages to try, in order

	mu  sync.RWMutex // held for reading during a lookup, for writing to swap readers
	r   *maxminddb.Reader
	mod time.Time
	len int64

	next atomic.Int64 // unix nanoseconds of the next look at the file
}

// Open reads the database at o.Path. An empty path is no database: nil,
// nil. A file that cannot be read, or is not a City (or Country) database,
// is an error.
func Open(o Options) (*DB, error) {
	if o.Path == "" {
		return nil, nil
	}
	if len(o.Languages) == 0 {
		o.Languages = []string{"en"}
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &DB{o: o, langs: map[string][]string{}}
	for _, l := range o.Languages {
		d.langs[l] = candidates(l)
	}
	r, mod, size, err := open(o.Path)
	if err != nil {
		return nil, err
	}
	d.r, d.mod, d.len = r, mod, size
	d.next.Store(o.Now().Add(o.CheckEvery).UnixNano())
	return d, nil
}

// open maps the file and checks that its records are the City kind.
func open(path string) (*maxminddb.Reader, time.Time, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, 0, fmt.Errorf("geoip: %w", err)
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, time.Time{}, 0, fmt.Errorf("geoip: %s: %w", path, err)
	}
	if t := r.Metadata.DatabaseType; !strings.Contains(t, "City") && !strings.Contains(t, "Country") {
		_ = r.Close()
		return nil, time.Time{}, 0, fmt.Errorf("geoip: %s is a %q database; a GeoLite2 or GeoIP2 City database is needed", path, t)
	}
	return r, fi.ModTime(), fi.Size(), nil
}

// Close releases the database.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.r == nil {
		return nil
	}
	err := d.r.Close()
	d.r = nil
	return err
}

// record is what a lookup decodes: the city and country with their names
// in every language the database has.
type record struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
}

// Locate returns the place of ip (an address as the client address
// resolver gives it), or the zero Place when there is no database, the
// address is malformed or the database does not know it.
func (d *DB) Locate(ip string) storage.Place {
	if d == nil {
		return storage.Place{}
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return storage.Place{}
	}
	d.maybeReload()
	var rec record
	d.mu.RLock()
	if d.r != nil {
		err = d.r.Lookup(addr.WithZone("").Unmap()).Decode(&rec)
	}
	d.mu.RUnlock()
	if err != nil {
		d.o.Logger.Warn("geoip lookup failed", "err", err)
		return storage.Place{}
	}
	return d.place(rec)
}

// place names rec in each of the DB's languages.
func (d *DB) place(rec record) storage.Place {
	p := storage.Place{Country: rec.Country.ISOCode}
	for lang, try := range d.langs {
		if n := pick(rec.Country.Names, try); n != "" {
			if p.Names == nil {
				p.Names = map[string]string{}
			}
			p.Names[lang] = n
		}
		if n := pick(rec.City.Names, try); n != "" {
			if p.Cities == nil {
				p.Cities = map[string]string{}
			}
			p.Cities[lang] = n
		}
	}
	return p
}

func pick(names map[string]string, try []string) string {
	for _, l := range try {
		if n := names[l]; n != "" {
			return n
		}
	}
	return ""
}

// candidates are the database languages a page language reads, nearest
// first (see the package doc), English last.
func candidates(tag string) []string {
	var out []string
	switch tag {
	case "zh-Hans":
		out = []string{"zh-CN", "zh"}
	case "zh-Hant":
		out = []string{"zh-TW", "zh-HK", "zh-CN", "zh"}
	default:
		out = []string{tag}
		if base, _, ok := strings.Cut(tag, "-"); ok {
			out = append(out, base)
		}
	}
	if tag != "en" {
		out = append(out, "en")
	}
	return out
}

// maybeReload looks at the file when it is time, in the one caller that
// moves the next look forward, and swaps in a changed file.
func (d *DB) maybeReload() {
	now := d.o.Now()
	next := d.next.Load()
	if now.UnixNano() < next || !d.next.CompareAndSwap(next, now.Add(d.o.CheckEvery).UnixNano()) {
		return
	}
	fi, err := os.Stat(d.o.Path)
	if err != nil {
		d.o.Logger.Warn("geoip database not readable; keeping the one loaded", "path", d.o.Path, "err", err)
		return
	}
	d.mu.RLock()
	same := fi.ModTime().Equal(d.mod) && fi.Size() == d.len
	d.mu.RUnlock()
	if same {
		return
	}
	r, mod, size, err := open(d.o.Path)
	if err != nil {
		d.o.Logger.Error("geoip database changed but cannot be read; keeping the one loaded", "path", d.o.Path, "err", err)
		return
	}
	d.mu.Lock()
	old := d.r
	d.r, d.mod, d.len = r, mod, size
	d.mu.Unlock()
	// Every lookup on old held the read lock, so none is left.
	if old != nil {
		if err := old.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			d.o.Logger.Warn("geoip: closing the replaced database", "err", err)
		}
	}
	d.o.Logger.Info("geoip database reloaded", "path", d.o.Path, "built", r.Metadata.BuildEpoch)
}
