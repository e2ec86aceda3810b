package provider

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Discovery and the key set are what relying parties fetch most, and op
// rebuilds both on every request (the JWKS marshals every RSA modulus).
// Their content changes only with the configuration or when the key ring
// installs keys, so they are built once and served as bytes: discovery at
// start-up from Tsubasa's tables (metadata.go), the JWKS by op's own
// function in keyRing.install (load, reload, manual and scheduled rotation).

// Cache lifetimes. Op sets no Cache-Control on either. A rotation publishes
// the new key keyPublishLead (2 min) before it signs (keyrotation.go), which
// must exceed this lifetime plus the replicas' reload bound, so a cached key
// set never lacks a key in use; a minute, far below keyRetention, so no
// cache holds a dropped key for long either. Discovery changes only with the
// configuration, which takes a restart.
const (
	jwksCacheControl      = "public, max-age=60"
	discoveryCacheControl = "public, max-age=3600"
)

// document is a response body built once, with the headers op sent with it.
type document struct {
	body          []byte
	contentType   []string
	contentLength []string
	cacheControl  []string
}

// capture is an in-memory ResponseWriter for running op's response builders
// once.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(p)
}

func (c *capture) document(what, cacheControl string) (*document, error) {
	if c.status != http.StatusOK {
		return nil, fmt.Errorf("provider: building %s: status %d", what, c.status)
	}
	return &document{
		body:          bytes.Clone(c.body.Bytes()),
		contentType:   []string{c.Header().Get("Content-Type")},
		contentLength: []string{strconv.Itoa(c.body.Len())},
		cacheControl:  []string{cacheControl},
	}, nil
}

// staticKeys hands op.Keys the key set being installed.
type staticKeys []op.Key

func (k staticKeys) KeySet(context.Context) ([]op.Key, error) { return k, nil }

// encodeJWKS is the body op's /keys handler would write for keys.
func encodeJWKS(keys []op.Key) (*document, error) {
	var c capture
	req, err := http.NewRequest(http.MethodGet, "/keys", nil)
	if err != nil {
		return nil, err
	}
	op.Keys(&c, req, staticKeys(keys))
	return c.document("JWKS", jwksCacheControl)
}

// serve writes the document. HEAD gets the same headers; net/http drops the
// body.
func (d *document) serve(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = d.contentType
	h["Content-Length"] = d.contentLength
	h["Cache-Control"] = d.cacheControl
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.body)
}

// wellKnown answers GET and HEAD (and CORS preflights) for discovery and the
// key set from prebuilt bytes, and refuses other methods at discovery (op's
// router would answer them with op's own document); every other request
// goes to next. Paths and CORS are op's.
type wellKnown struct {
	next          http.Handler
	discoveryPath string
	keysPath      string
	discovery     http.Handler
	keys          http.Handler
}

func newWellKnown(prov *op.Provider, cors func(http.Handler) http.Handler, discovery *document, ring *keyRing, next http.Handler) *wellKnown {
	return &wellKnown{
		next:          next,
		discoveryPath: oidc.DiscoveryEndpoint,
		keysPath:      prov.KeysEndpoint().Relative(),
		discovery:     cors(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { discovery.serve(w) })),
		keys:          cors(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { ring.jwksDocument().serve(w) })),
	}
}

func (wk *wellKnown) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// op's router matches the escaped path, so an escaped spelling of these
	// paths is not theirs.
	if r.URL.RawPath == "" {
		switch {
		case r.URL.Path == wk.discoveryPath && wk.cached(r):
			wk.discovery.ServeHTTP(w, r)
			return
		case r.URL.Path == wk.discoveryPath:
			methodNotAllowed(w, "GET, HEAD")
			return
		case r.URL.Path == wk.keysPath && wk.cached(r):
			wk.keys.ServeHTTP(w, r)
			return
		}
	}
	wk.next.ServeHTTP(w, r)
}

// cached reports whether r is one the prebuilt documents answer. Other
// methods at /keys keep op's behaviour (it serves the route for any method).
func (wk *wellKnown) cached(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodOptions:
		return r.Header.Get("Access-Control-Request-Method") != ""
	}
	return false
}
