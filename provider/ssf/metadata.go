package ssf

import (
	"encoding/json"
	"net/http"
)

// Path is where a receiver discovers the transmitter (SSF 1.0 §7.2).
const Path = "/.well-known/ssf-configuration"

// DeliveryPush is the push delivery method's URI (RFC 8935).
const DeliveryPush = "urn:ietf:rfc:8935"

// Metadata is the transmitter configuration metadata (SSF 1.0 §7.1):
// only what is built. default_subjects ALL: a stream hears of every
// member its client could name, there is no subject list to manage.
type Metadata struct {
	SpecVersion           string   `json:"spec_version"`
	Issuer                string   `json:"issuer"`
	JWKSURI               string   `json:"jwks_uri"`
	DeliveryMethods       []string `json:"delivery_methods_supported"`
	ConfigurationEndpoint string   `json:"configuration_endpoint"`
	DefaultSubjects       string   `json:"default_subjects"`
	AuthorizationSchemes  []Scheme `json:"authorization_schemes"`
}

// Scheme names how the configuration endpoint is authorized: an OAuth
// 2.0 access token (RFC 6749) of the admin API's client credentials.
type Scheme struct {
	SpecURN string `json:"spec_urn"`
}

// Configuration serves the metadata; configEndpoint is the admin API's
// streams collection.
func Configuration(issuer, jwksURI, configEndpoint string) http.Handler {
	body, err := json.Marshal(Metadata{
		SpecVersion: "1_0", Issuer: issuer, JWKSURI: jwksURI,
		DeliveryMethods:       []string{DeliveryPush},
		ConfigurationEndpoint: configEndpoint, DefaultSubjects: "ALL",
		AuthorizationSchemes: []Scheme{{SpecURN: "urn:ietf:rfc:6749"}},
	})
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	})
}
