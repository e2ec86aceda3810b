package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/provider/outbound"
	"tsubasa/provider/seal"
	"tsubasa/storage"
)

// Store is what the provider needs from storage.
type Store interface {
	storage.Members
	storage.Clients
	storage.AuthRequests
	storage.Tokens
	storage.Keys
	storage.Sessions
	storage.Consents
	storage.PushedRequests
	storage.JTIs
	storage.Janitor
	storage.SingleUse // one replica creates the first keys, one rotates
	storage.DeviceGrants
	storage.Throttles // the device authorizations of each address (devicelimit.go)
}

// Options configure a Provider. cmd builds them from config.
type Options struct {
	Issuer string
	Store  Store
	// Clients from the config file, secrets already hashed with HashSecret.
	Clients []storage.Client
	// HMACKey (≥32 bytes) hashes codes, refresh tokens and client secrets,
	// and derives pairwise subjects.
	HMACKey []byte
	// CryptoKey encrypts opaque access tokens and codes (AES-256-GCM).
	CryptoKey [32]byte

	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	CodeTTL         time.Duration
	AuthRequestTTL  time.Duration

	DefaultAlg     string // RS256 or ES256, for clients that do not choose
	RotationPeriod time.Duration
	RSABits        int

	// LoginURL is where /authorize sends the browser (the login UI).
	LoginURL func(authRequestID string) string
	// UILocales are the languages of the login UI (BCP 47, default first),
	// advertised as ui_locales_supported.
	UILocales []string
	// EndSession takes a validated end-session request to the login UI,
	// which ends the browser's session or asks the member first, then
	// redirects (endsession.go).
	EndSession func(w http.ResponseWriter, r *http.Request, req LogoutRequest)
	// LogoutRefused shows the member why an end-session request was
	// refused: nothing was ended, and the browser is not redirected.
	LogoutRefused func(w http.ResponseWriter, r *http.Request, ref LogoutRefusal)
	// RequestURIRefused shows the member that the request_uri /authorize
	// was given is unknown, expired, used or another client's: they start
	// again from the app (par.go). Nil: a plain 400.
	RequestURIRefused func(w http.ResponseWriter, r *http.Request)

	// PARTTL is how long a pushed request's request_uri lives (RFC 9126
	// §2.2 expires_in; default 60 s). RequirePAR makes every client push
	// its authorization requests (discovery's
	// require_pushed_authorization_requests).
	PARTTL     time.Duration
	RequirePAR bool
	// Outbound fetches what clients registered by URL (jwks_uri); nil is
	// an outbound.Client with its defaults, which refuses special-use
	// addresses.
	Outbound *outbound.Client
	// DPoPProofMaxAge is how old a DPoP proof's iat may be (default 60 s);
	// DPoPNonceTTL, when set, makes every proof carry a server nonce at
	// most that old (RFC 9449 §8; dpopnonce.go).
	DPoPProofMaxAge time.Duration
	DPoPNonceTTL    time.Duration
	// LocalReplay: the store is this process's alone (bbolt: one process
	// per file), so the single use of client assertions and DPoP proofs
	// is checked in memory, with a fence at this process's start
	// (replay.go). False on a store replicas share.
	LocalReplay bool
	// DeviceCodeTTL and DeviceInterval are the device grant's code
	// lifetime (default 10 min) and least poll interval (default 5 s);
	// DeviceVerificationURL is the login UI's page where members enter
	// user codes (default the issuer's /device). device.go.
	DeviceCodeTTL         time.Duration
	DeviceInterval        time.Duration
	DeviceVerificationURL string
	// DeviceMaxPerAddress device authorizations are allowed per client
	// address in each DeviceWindow (devicelimit.go); ClientAddr names a
	// request's client address (cmd's clientaddr.From). Without
	// ClientAddr, or with a limit of 0, nothing is counted.
	DeviceMaxPerAddress int
	DeviceWindow        time.Duration
	ClientAddr          func(*http.Request) string
	// IPv6Prefix is the network an IPv6 client's device authorizations
	// count under (clientaddr.LimitKey; 0: clientaddr.DefaultIPv6Prefix).
	IPv6Prefix int

	Dev    bool // allow an http issuer
	Now    func() time.Time
	Logger *slog.Logger
}

// Provider is Tsubasa's OpenID Provider: zitadel/oidc's op on top of storage.
type Provider struct {
	opts       Options
	store      Store
	fresh      storage.Fresh // for decisions that outlive stale caches (fresh.go)
	clients    *ClientRegistry
	keys       *keyRing
	clientKeys *clientKeyCache
	nonces     *dpopNonces
	refreshBox *seal.Box // refresh token values' grants (refreshseal.go)
	replay     *replayGuard
	op         *op.Provider
	responder  responder
	now        func() time.Time
	log        *slog.Logger
	handler    http.Handler
}

// New builds the provider, loading (or creating) signing keys.
func New(ctx context.Context, o Options) (*Provider, error) {
	if len(o.HMACKey) < 32 {
		return nil, errors.New("provider: HMAC key must be at least 32 bytes")
	}
	if o.LoginURL == nil {
		return nil, errors.New("provider: LoginURL is required")
	}
	if o.EndSession == nil || o.LogoutRefused == nil {
		return nil, errors.New("provider: EndSession and LogoutRefused are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DefaultAlg == "" {
		o.DefaultAlg = AlgRS256
	}
	if o.PARTTL <= 0 {
		o.PARTTL = 60 * time.Second
	}
	if o.Outbound == nil {
		o.Outbound = outbound.New(outbound.Options{})
	}
	if o.DeviceCodeTTL <= 0 {
		o.DeviceCodeTTL = 10 * time.Minute
	}
	if o.DeviceInterval < time.Second {
		o.DeviceInterval = 5 * time.Second
	}
	if o.DeviceWindow <= 0 {
		o.DeviceWindow = 10 * time.Minute
	}
	if o.DeviceVerificationURL == "" {
		o.DeviceVerificationURL = strings.TrimSuffix(o.Issuer, "/") + "/device"
	}
	if o.DPoPProofMaxAge <= 0 {
		o.DPoPProofMaxAge = time.Minute
	}
	reg, err := NewClientRegistry(o.Clients, o.Store, o.HMACKey, o.Now)
	if err != nil {
		return nil, err
	}
	p := &Provider{opts: o, store: o.Store, fresh: freshReads(o.Store), clients: reg, now: o.Now, log: o.Logger,
		clientKeys: newClientKeyCache(o.Outbound, o.Now),
		nonces:     newDPoPNonces(o.HMACKey, false, o.DPoPNonceTTL, o.Now)}
	if p.refreshBox, err = newRefreshBox(o.HMACKey); err != nil {
		return nil, err
	}
	if p.replay, err = newReplayGuard(ctx, o.Store, o.LocalReplay, o.Now); err != nil {
		return nil, err
	}
	p.keys = newKeyRing(o.Store, o.RSABits, o.Now, p.keyRetention(), o.Logger)
	if err := p.keys.load(ctx); err != nil {
		return nil, err
	}
	// op's switches agree with the tables in metadata.go where op still
	// reads them. op authenticates no client (clientauth.go does) and
	// parses no request object (authorize.go resolves them first), so
	// those switches stay off; op's own discovery (and with it
	// SupportedScopes, SupportedClaims and SupportedUILocales, which it
	// reads for nothing else) is not served.
	cfg := &op.Config{
		CryptoKey:               o.CryptoKey,
		CodeMethodS256:          slices.Contains(codeChallengeMethods, oidc.CodeChallengeMethodS256),
		AuthMethodPost:          slices.Contains(tokenAuthMethods, oidc.AuthMethodPost),
		AuthMethodPrivateKeyJWT: false,
		GrantTypeRefreshToken:   slices.Contains(grantTypes, GrantRefreshToken),
		RequestObjectSupported:  false,
	}
	opts := []op.Option{op.WithCrypto(op.NewAES256GCMCrypto(o.CryptoKey, "k1"))}
	if o.Dev || isLoopbackURL(o.Issuer) {
		opts = append(opts, op.WithAllowInsecure())
	}
	prov, err := op.NewProvider(cfg, &opStorage{p}, op.StaticIssuer(o.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	p.op = prov
	p.responder = newResponder(prov, o.Issuer)
	discovery, err := p.encodeDiscovery(ctx, prov)
	if err != nil {
		return nil, fmt.Errorf("provider: discovery: %w", err)
	}
	p.handler = p.routes(prov, discovery)
	p.warnServiceScopeClients(ctx)
	return p, nil
}

// Handler serves the OpenID Provider endpoints (discovery, /authorize,
// /oauth/par, /oauth/token, /userinfo, /oauth/introspect, /revoke,
// /end_session, /keys); routes.go says which are Tsubasa's and which op's.
func (p *Provider) Handler() http.Handler { return p.handler }

// AuthCallbackURL is where the login UI sends the browser when a request is done.
func (p *Provider) AuthCallbackURL() func(context.Context, string) string {
	return op.AuthCallbackURL(p.op)
}

// Run rotates keys on schedule, keeps them current with the other
// replicas' (keyrotation.go) and deletes expired records until ctx ends.
func (p *Provider) Run(ctx context.Context, janitorEvery time.Duration) {
	if janitorEvery <= 0 {
		janitorEvery = time.Minute
	}
	go p.keys.watch(ctx)
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := p.store.DeleteExpired(ctx, p.now()); err != nil {
				p.log.ErrorContext(ctx, "janitor failed", "err", err)
			} else if n > 0 {
				p.log.DebugContext(ctx, "janitor deleted expired records", "count", n)
			}
			if p.opts.RotationPeriod > 0 {
				if _, err := p.keys.rotateIfDue(ctx, p.opts.RotationPeriod); err != nil {
					p.log.ErrorContext(ctx, "key rotation failed", "err", err)
				}
			}
		}
	}
}

// HashSecret is the at-rest form of a client secret.
func HashSecret(key []byte, secret string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("client-secret\x00"))
	m.Write([]byte(secret))
	return m.Sum(nil)
}

func (p *Provider) secretHash(secret string) []byte { return HashSecret(p.opts.HMACKey, secret) }

// tokenHash is the at-rest identifier of a code or refresh token.
func (p *Provider) tokenHash(kind, value string) string {
	m := hmac.New(sha256.New, p.opts.HMACKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return fmt.Sprintf("%x", m.Sum(nil))
}

// keyRetention is how long a retired key must stay published: until every
// token it signed has expired.
func (p *Provider) keyRetention() time.Duration {
	return p.opts.KeyRetention()
}
