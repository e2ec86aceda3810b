package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsubasa/cmd/tsubasa/internal/adminsock"
	"tsubasa/cmd/tsubasa/internal/metrics"
	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/provider/admin"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// startAdmin serves the admin API on the socket beside the database until
// ctx ends; wg waits for running operations to finish, so wait on it before
// closing the store. Clients change and keys rotate through the running
// provider, which sees both at once.
func (s *server) startAdmin(ctx context.Context, wg *sync.WaitGroup) error {
	opts, err := s.deps.AdminOptions(s.provider)
	if err != nil {
		return err
	}
	if opts.OTP, err = otpService(s.deps, s.msg); err != nil {
		return err
	}
	svc, err := admin.New(opts)
	if err != nil {
		return err
	}
	as, err := adminsock.Listen(svc, s.deps.Config.AdminSocket(), s.deps.Log)
	if err != nil {
		return err
	}
	wg.Go(func() {
		if err := as.Serve(ctx); err != nil {
			s.deps.Log.Error("admin socket stopped", "error", err)
		}
		_ = as.Close()
	})
	return nil
}

// AdminOptions are the admin operations over d. With p, the running
// provider, clients change through its registry and keys rotate through
// it, so it serves the change from the next request on. Without (the CLI's
// direct mode, when no server holds the database) they change in the
// database only, which is right when no provider runs.
func (d *Deps) AdminOptions(p *provider.Provider) (admin.Options, error) {
	cfg := d.Config
	o := admin.Options{
		Store:        d.Store,
		Members:      d.Members,
		CheckClient:  clientChecker(cfg),
		SMSCountries: cfg.OTP.SMSCountries,
		// Every process (replica, CLI) derives the same key, so a page's
		// cursor is good wherever the next page is asked for.
		CursorKey: deriveKey(d.HMACKey, "admin-event-cursor"),
		JobTTL:    cfg.Admin.API.JobTTL,
		Audit:     audit.New(d.Store, siemLogger(cfg)),
		Logger:    d.Log,
		Support: admin.SupportOptions{Require: cfg.Admin.Support.RequireVerifiedSession, VerifiedFor: cfg.Admin.Support.VerifiedFor,
			MaxAttempts: cfg.Admin.Support.MaxAttempts, VerifyPerHour: cfg.Admin.Support.VerifyPerHour},
		Logouts: d.Logouts,
		// Webhook subscriptions: secrets derived, never stored; URLs
		// under the rules of addresses Tsubasa calls.
		WebhookKey:      deriveKey(d.HMACKey, "webhook-secret"),
		CheckWebhookURL: cfg.CheckOutboundURL,
		// Shared Signals streams: the receivers' Authorization headers
		// sealed under a key of their own (wire_ssf.go).
		SSFIssuer: cfg.Issuer,
		SSFKey:    deriveKey(d.HMACKey, ssfKeyPurpose),
	}
	if p != nil {
		o.Clients, o.RotateKeys = p.Clients(), p.RotateKeys
		return o, nil
	}
	var err error
	if o.Clients, err = provider.NewClientRegistry(staticClients(cfg, d.HMACKey), d.Store, d.HMACKey, nil); err != nil {
		return o, err
	}
	o.RotateKeys = func(ctx context.Context) ([]storage.SigningKey, error) {
		retention := provider.Options{
			IDTokenTTL:     cfg.Tokens.IDTokenTTL,
			AccessTokenTTL: cfg.Tokens.AccessTokenTTL,
		}.KeyRetention()
		return provider.RotateKeys(ctx, d.Store, cfg.Keys.RSABits, time.Now(), retention)
	}
	return o, nil
}

// OpenAdmin opens the database of cfg in this process and returns the
// admin operations over it, for the CLI when no server answers on the
// admin socket, and always on PostgreSQL, which any number of processes
// share (a key rotation reaches the running replicas' key rings when the
// store notifies it, or at their next reload: provider/doc.go "Signing
// keys"); closeDB closes the database. Import progress and warnings go
// to stderr.
func OpenAdmin(ctx context.Context, cfg config.Config, stderr io.Writer) (r adminsock.Runner, closeDB func() error, err error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := open(ctx, cfg, log, time.Second, false)
	if errors.Is(err, bolt.ErrLocked) {
		return nil, nil, fmt.Errorf("%w\n(no server answers on the admin socket %s: does the running server use another admin.socket?)",
			err, cfg.AdminSocket())
	}
	if err != nil {
		return nil, nil, err
	}
	opts, err := d.AdminOptions(nil)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	opts.Progress = stderr
	// Support codes go out from this process as the server would send
	// them (SMTP, the SMS driver), under the same limits in storage.
	msg, err := newMessaging(d, metrics.New(), nil)
	if err == nil {
		opts.OTP, err = otpService(d, msg)
	}
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	svc, err := admin.New(opts)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return adminsock.Direct{Handler: svc}, d.Close, nil
}

// problemPath matches a client problem of config validation, e.g.
// clients[0].redirect_uris[2].
var problemPath = regexp.MustCompile(`^clients\[0\]\.([a-z_]+)(?:\[(\d+)\])?$`)

// clientChecker applies the config file's defaults and rules to a client
// added through the admin API, so that it is exactly as valid as one
// written in the file: it validates cfg with the client as its only one and
// words the problems about it for the operator.
func clientChecker(cfg config.Config) func(adminapi.ClientInput) (adminapi.ClientInput, error) {
	return func(in adminapi.ClientInput) (adminapi.ClientInput, error) {
		cc := config.ClientConfig{
			ID:                                 in.ID,
			Name:                               strings.TrimSpace(in.Name),
			RedirectURIs:                       in.RedirectURIs,
			PostLogoutRedirectURIs:             in.PostLogoutRedirectURIs,
			Public:                             in.Public,
			ThirdParty:                         in.ThirdParty,
			GrantTypes:                         in.GrantTypes,
			Scopes:                             in.Scopes,
			IDTokenSignedResponseAlg:           in.IDTokenAlg,
			LogoURI:                            in.LogoURI,
			PolicyURI:                          in.PolicyURI,
			TokenEndpointAuthMethod:            in.TokenEndpointAuthMethod,
			JWKS:                               in.JWKS,
			JWKSURI:                            in.JWKSURI,
			RequirePushedAuthorizationRequests: in.RequirePAR,
			DPoPBoundAccessTokens:              in.DPoPBoundAccessTokens,
			Profile:                            in.Profile,
			BackchannelLogoutURI:               in.BackchannelLogoutURI,
			BackchannelLogoutSessionRequired:   in.BackchannelLogoutSessionRequired,
		}.WithDefaults(cfg.Keys.Algorithm)
		if cc.Name == "" {
			cc.Name = cc.ID
		}
		if !cc.Public && cc.TokenEndpointAuthMethod != config.AuthMethodPrivateKey {
			cc.Secret = "generated below; stands in so the secret rule passes"
		}
		if err := clientProblems(cfg, cc); err != nil {
			return in, err
		}
		return adminapi.ClientInput{
			ID: cc.ID, Name: cc.Name, RedirectURIs: cc.RedirectURIs, PostLogoutRedirectURIs: cc.PostLogoutRedirectURIs,
			Public: cc.Public, ThirdParty: cc.ThirdParty, GrantTypes: cc.GrantTypes, Scopes: cc.Scopes,
			IDTokenAlg: cc.IDTokenSignedResponseAlg, LogoURI: cc.LogoURI, PolicyURI: cc.PolicyURI,
			TokenEndpointAuthMethod: cc.TokenEndpointAuthMethod, JWKS: cc.JWKS, JWKSURI: cc.JWKSURI,
			RequirePAR: cc.RequirePushedAuthorizationRequests,
			// DPoP and the FAPI 2.0 profile (README "Partner apps").
			DPoPBoundAccessTokens: cc.DPoPBoundAccessTokens, Profile: cc.Profile,
			BackchannelLogoutURI: cc.BackchannelLogoutURI, BackchannelLogoutSessionRequired: cc.BackchannelLogoutSessionRequired,
		}, nil
	}
}

// clientProblems validates cfg with cc as its only client and returns the
// problems about cc as an *adminapi.Error, or nil.
func clientProblems(cfg config.Config, cc config.ClientConfig) error {
	probe := cfg
	probe.Clients = []config.ClientConfig{cc}
	var ve *config.ValidationError
	if err := probe.Validate(); !errors.As(err, &ve) {
		return nil
	}
	var msgs []string
	first := ""
	for _, p := range ve.Problems {
		m := problemPath.FindStringSubmatch(p.Path)
		if m == nil {
			continue // not about this client
		}
		// The API calls the algorithm by its short name.
		field := strings.Replace(strings.TrimPrefix(p.Path, "clients[0]."),
			"id_token_signed_response_alg", "id_token_alg", 1)
		if first == "" {
			first = field
		}
		msg := field + ": " + p.Message
		if v, ok := clientValue(cc, m[1], m[2]); ok {
			msg = fmt.Sprintf("%s %q: %s", field, v, p.Message)
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil
	}
	return adminapi.Invalid(first, "invalid client: %s", strings.Join(msgs, "; "))
}

// clientValue returns the value a problem is about, to quote it back.
func clientValue(cc config.ClientConfig, key, index string) (string, bool) {
	lists := map[string][]string{
		"redirect_uris":             cc.RedirectURIs,
		"post_logout_redirect_uris": cc.PostLogoutRedirectURIs,
		"grant_types":               cc.GrantTypes,
		"scopes":                    cc.Scopes,
	}
	if l, ok := lists[key]; ok && index != "" {
		i, err := strconv.Atoi(index)
		if err != nil || i >= len(l) {
			return "", false
		}
		return l[i], true
	}
	switch key {
	case "id":
		return cc.ID, true
	case "id_token_signed_response_alg":
		return cc.IDTokenSignedResponseAlg, true
	case "logo_uri":
		return cc.LogoURI, true
	case "policy_uri":
		return cc.PolicyURI, true
	case "token_endpoint_auth_method":
		return cc.TokenEndpointAuthMethod, true
	case "jwks_uri":
		return cc.JWKSURI, true
	case "profile":
		return cc.Profile, true
	case "backchannel_logout_uri":
		return cc.BackchannelLogoutURI, true
	}
	return "", false
}
