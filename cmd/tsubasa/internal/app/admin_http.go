package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"tsubasa/provider"
	"tsubasa/provider/admin"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/admin/adminhttp"
	"tsubasa/provider/audit"
)

// adminHTTP builds the HTTP admin API (admin.api), on the running
// provider: its tokens, and its client registry and key rotation, so a
// change made through the API is served from the next request on, on
// every replica. nil when admin.api.enabled is false.
func (s *server) adminHTTP(ctx context.Context) (http.Handler, error) {
	cfg := s.deps.Config
	if !cfg.Admin.API.Enabled {
		return nil, nil
	}
	opts, err := s.deps.AdminOptions(s.provider)
	if err != nil {
		return nil, err
	}
	if opts.OTP, err = otpService(s.deps, s.msg); err != nil {
		return nil, err
	}
	svc, err := admin.New(opts)
	if err != nil {
		return nil, err
	}
	api := cfg.Admin.API
	return adminhttp.New(adminhttp.Options{
		Service:        svc,
		Authenticate:   s.adminCaller,
		Store:          s.deps.Store,
		Audit:          audit.New(s.deps.Store, siemLogger(cfg)),
		Key:            deriveKey(s.deps.HMACKey, "admin-idempotency"),
		RateLimit:      api.RateLimit,
		Burst:          api.Burst,
		MaxBodyBytes:   int64(api.MaxBodyBytes),
		MaxImportBytes: api.MaxImportBytes,
		IdempotencyTTL: api.IdempotencyTTL,
		Issuer:         cfg.Issuer,
		Logger:         s.deps.Log,
	})
}

// adminCaller checks an admin API request's access token: the provider
// owns tokens, the admin API its callers, and this maps one's answer to
// the other's terms. Only a token a client got for itself by
// client_credentials is a caller (a member's is refused whatever its
// scopes), with the scopes the client still has. The whole request is
// given so that a proof of possession (DPoP) can be checked here too.
func (s *server) adminCaller(r *http.Request) (adminhttp.Caller, error) {
	bearer, ok := bearerToken(r)
	if !ok {
		return adminhttp.Caller{}, adminhttp.ErrNoToken
	}
	tok, err := s.provider.ServiceToken(r.Context(), bearer, "")
	switch {
	case errors.Is(err, provider.ErrInvalidToken), errors.Is(err, provider.ErrMemberToken):
		return adminhttp.Caller{}, adminhttp.ErrInvalidToken
	case err != nil:
		return adminhttp.Caller{}, err
	}
	return adminhttp.Caller{ClientID: tok.ClientID, Scopes: tok.Scopes}, nil
}

// bearerToken is the token of an Authorization: Bearer header (RFC 6750
// §2.1), the only way the admin API takes one: never from a URL.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// adminPrefix is where the admin API is mounted.
const adminPrefix = adminapi.Prefix + "/"

// limitBodies bounds every request body to n bytes, except, when the
// admin API is served (admin), its requests: it bounds its own, a JSON
// body to admin.api.max_body_bytes, a member import's stream to
// admin.api.max_import_bytes.
func limitBodies(next http.Handler, n int64, admin bool) http.Handler {
	limited := http.MaxBytesHandler(next, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if admin && strings.HasPrefix(r.URL.Path, adminPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		limited.ServeHTTP(w, r)
	})
}
