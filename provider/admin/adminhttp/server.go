package adminhttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"tsubasa/provider/admin"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// Store is what the HTTP layer keeps: the clients' rate limits and the
// answers to requests made with an idempotency key. Audit events go
// through Options.Audit.
type Store interface {
	storage.Throttles
	storage.Idempotency
}

// Caller is the client an access token was issued to, and the scopes it
// carries that the client is still allowed.
type Caller struct {
	ClientID string
	Scopes   []string
}

// Errors of Options.Authenticate.
var (
	// ErrNoToken: the request carries no access token.
	ErrNoToken = errors.New("adminhttp: no access token")
	// ErrInvalidToken: the token is malformed, unknown, expired, revoked,
	// of a removed client, or issued for a member rather than to a client
	// for itself.
	ErrInvalidToken = errors.New("adminhttp: invalid access token")
)

// Options configure the admin API's handler. The composition root builds
// them from config.
type Options struct {
	Service *admin.Service
	// Authenticate finds the caller of a request from its access token:
	// the whole request, so that a proof of possession (DPoP) can join the
	// bearer token without this package changing. It returns ErrNoToken,
	// ErrInvalidToken, or another error for a failure to check.
	Authenticate func(r *http.Request) (Caller, error)
	Store        Store
	// Audit records an admin.call event for every authenticated call.
	Audit *audit.Logger
	// Key (32 bytes or more) keys the idempotency records and seals the
	// answers they keep; every replica must have the same.
	Key []byte
	// RateLimit requests per second per client on average, Burst beyond.
	RateLimit, Burst int
	// MaxBodyBytes bounds a JSON body, MaxImportBytes an import stream.
	MaxBodyBytes   int64
	MaxImportBytes int64
	// IdempotencyTTL is how long an answer to an Idempotency-Key is kept.
	IdempotencyTTL time.Duration
	// Issuer is the server's issuer URL: the OpenAPI document's server
	// and token endpoint.
	Issuer string
	Logger *slog.Logger
	Now    func() time.Time
}

// handler serves the admin API.
type handler struct {
	o       Options
	mux     *http.ServeMux
	openapi []byte
	sealer  sealer
	log     *slog.Logger
}

// New returns the admin API's handler, to mount at adminapi.Prefix + "/".
func New(o Options) (http.Handler, error) {
	if o.Service == nil || o.Authenticate == nil || o.Store == nil || o.Audit == nil || len(o.Key) < 32 {
		return nil, errors.New("adminhttp: Service, Authenticate, Store, Audit and a Key of 32 bytes are required")
	}
	if o.RateLimit < 1 || o.Burst < 1 || o.MaxBodyBytes < 1 || o.MaxImportBytes < 1 || o.IdempotencyTTL <= 0 {
		return nil, errors.New("adminhttp: RateLimit, Burst, MaxBodyBytes, MaxImportBytes and IdempotencyTTL must be positive")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := &handler{o: o, mux: http.NewServeMux(), log: o.Logger}
	var err error
	if h.sealer, err = newSealer(o.Key); err != nil {
		return nil, err
	}
	if h.openapi, err = Document(o.Issuer); err != nil {
		return nil, err
	}
	for _, rt := range adminapi.Routes {
		b, err := newBinding(rt)
		if err != nil {
			return nil, err
		}
		h.mux.Handle(rt.Method+" "+rt.Path, h.route(rt, b))
	}
	h.mux.HandleFunc("GET "+adminapi.Prefix+"/openapi.json", h.serveOpenAPI)
	h.mux.HandleFunc("GET "+adminapi.ProblemBase+"{name}", h.serveProblemType)
	h.mux.HandleFunc(adminapi.Prefix+"/", h.unrouted)
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Nothing the admin API answers may be cached or sniffed, and no page
	// may frame it; it sends no CORS header, so no browser page of
	// another origin can read it.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.mux.ServeHTTP(w, r)
}

// unrouted answers a path no route serves: 405 with Allow when the path
// is a route's with other methods, 404 otherwise.
func (h *handler) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range adminapi.Routes {
		if pathMatches(rt.Path, r.URL.Path) && !slices.Contains(allow, rt.Method) {
			allow = append(allow, rt.Method)
		}
	}
	id := requestID(w)
	if len(allow) > 0 {
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeAnswer(w, problem(adminapi.ProblemMethodNotAllowed, r, id, "%s is not a method of %s (allowed: %s)",
			r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	writeAnswer(w, problem(adminapi.ProblemNotFound, r, id, "no admin API route at %s (the routes are in %s/openapi.json)",
		r.URL.Path, adminapi.Prefix))
}

// pathMatches reports whether path is one the route pattern serves: the
// same segments, a {wildcard} matching any one that is not empty.
func pathMatches(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if qs[i] == "" {
				return false
			}
			continue
		}
		if p != qs[i] {
			return false
		}
	}
	return true
}

// requestID is the id the server's middleware gave the request (its
// X-Request-Id), or a new one.
func requestID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	w.Header().Set("X-Request-Id", id)
	return id
}

// withoutCancel is the context an operation that must finish runs under
// once its changes have begun.
func withoutCancel(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
