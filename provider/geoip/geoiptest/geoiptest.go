package geoiptest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one network of a test database and where it is.
type Network struct {
	CIDR    string            // e.g. 203.0.113.0/24, 127.0.0.0/8
	Country string            // ISO code, e.g. JP
	Names   map[string]string // the country's names by database language (ja, en, zh-CN …)
	Cities  map[string]string // the city's names; none for a country-only network
}

// Tokyo and Osaka are networks in Japan with names in GeoLite2's languages
// that the pages use (ja, en, zh-CN), as the real database names them.
func Tokyo(cidr string) Network {
	return Network{CIDR: cidr, Country: "JP",
		Names:  map[string]string{"ja": "日本", "en": "Japan", "zh-CN": "日本"},
		Cities: map[string]string{"ja": "東京", "en": "Tokyo", "zh-CN": "东京"}}
}

// Osaka is Tokyo's neighbour, for a database that changes.
func Osaka(cidr string) Network {
	return Network{CIDR: cidr, Country: "JP",
		Names:  map[string]string{"ja": "日本", "en": "Japan", "zh-CN": "日本"},
		Cities: map[string]string{"ja": "大阪市", "en": "Osaka", "zh-CN": "大阪"}}
}

// Write writes a City database of networks to path, atomically (a new file
// renamed over the old, as geoipupdate replaces one). Reserved networks
// (documentation ranges, loopback) are allowed, so tests can use them.
func Write(path string, networks ...Network) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-City",
		Languages:               []string{"en", "ja", "zh-CN"},
		IncludeReservedNetworks: true,
		RecordSize:              28,
	})
	if err != nil {
		return err
	}
	for _, n := range networks {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			return fmt.Errorf("geoiptest: %s: %w", n.CIDR, err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(n.Country), "names": names(n.Names)}}
		if len(n.Cities) > 0 {
			rec["city"] = mmdbtype.Map{"names": names(n.Cities)}
		}
		if err := w.Insert(ipnet, rec); err != nil {
			return fmt.Errorf("geoiptest: insert %s: %w", n.CIDR, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".geoip-*.mmdb")
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func names(m map[string]string) mmdbtype.Map {
	out := mmdbtype.Map{}
	for k, v := range m {
		out[mmdbtype.String(k)] = mmdbtype.String(v)
	}
	return out
}
