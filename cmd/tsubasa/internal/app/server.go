package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"tsubasa/cmd/tsubasa/internal/demo"
	"tsubasa/cmd/tsubasa/internal/metrics"
	loginui "tsubasa/login-ui"
	"tsubasa/provider"
	"tsubasa/provider/clientaddr"
	"tsubasa/provider/member"
	"tsubasa/provider/passkey"
	"tsubasa/provider/ssf"
)

// server is the assembled HTTP application.
type server struct {
	deps     *Deps
	provider *provider.Provider
	ui       *loginui.UI
	msg      *messaging
	metrics  *metrics.Metrics
	handler  http.Handler
	// addrs derives each request's client address (trusted_proxies).
	addrs *clientaddr.Resolver
	// wellKnown serves the passkey documents of the programme's apps and
	// origins (wire_passkeys.go); nil while passkeys are off.
	wellKnown http.Handler
	// admin is the HTTP admin API (admin_http.go); nil when off.
	admin http.Handler
}

func newServer(ctx context.Context, d *Deps) (*server, error) {
	cfg := d.Config
	logout, partner := &logoutPages{}, &partnerPages{}
	p, err := provider.New(ctx, provider.Options{
		Issuer:          cfg.Issuer,
		Store:           d.Store,
		Clients:         staticClients(cfg, d.HMACKey),
		HMACKey:         d.HMACKey,
		CryptoKey:       d.CryptoKey,
		AccessTokenTTL:  cfg.Tokens.AccessTokenTTL,
		IDTokenTTL:      cfg.Tokens.IDTokenTTL,
		RefreshTokenTTL: cfg.Tokens.RefreshTokenTTL,
		CodeTTL:         cfg.Tokens.CodeTTL,
		AuthRequestTTL:  cfg.Tokens.AuthRequestTTL,
		DefaultAlg:      cfg.Keys.Algorithm,
		RotationPeriod:  cfg.Keys.RotationPeriod,
		RSABits:         cfg.Keys.RSABits,
		LoginURL:        loginui.LoginURL,
		UILocales:       cfg.UI.Languages,
		EndSession:      logout.endSession,
		LogoutRefused:   logout.refused,
		Dev:             cfg.Dev,
		Logger:          d.Log,
		// Partner-grade OAuth (wire_partner.go).
		RequestURIRefused: partner.requestURIRefused,
		PARTTL:            cfg.PAR.RequestURITTL,
		RequirePAR:        cfg.PAR.Required,
		Outbound:          outboundClient(cfg),
		DPoPProofMaxAge:   cfg.DPoP.ProofMaxAge,
		DPoPNonceTTL:      dpopNonceTTL(cfg),
		// bbolt is one process per file: single use is checked in memory
		// there (provider/replay.go); replicas share PostgreSQL's.
		LocalReplay: !cfg.UsesPostgres(),
		// The device grant (RFC 8628); its pages are the login UI's /device.
		DeviceCodeTTL:       cfg.Device.CodeTTL,
		DeviceInterval:      cfg.Device.Interval,
		DeviceMaxPerAddress: cfg.Device.MaxAuthorizationsPerAddress,
		DeviceWindow:        cfg.Device.EntryWindow,
		ClientAddr:          clientaddr.From,
		IPv6Prefix:          cfg.Limits.IPv6Prefix,
	})
	if err != nil {
		return nil, err
	}
	s := &server{deps: d, provider: p, metrics: metrics.New()}
	if s.addrs, err = clientResolver(cfg); err != nil {
		return nil, err
	}
	if s.msg, err = newMessaging(d, s.metrics, p); err != nil {
		return nil, err
	}
	features, err := s.features()
	if err != nil {
		return nil, err
	}
	ui, err := loginui.New(loginui.Options{
		Store:    d.Store,
		Members:  d.Members,
		Callback: p.AuthCallbackURL(),
		Answer:   p.AnswerAuthRequest,
		Fail:     p.FailAuthRequest,
		ClientName: func(ctx context.Context, id string) string {
			return p.ClientName(ctx, id)
		},
		Subject:    p.Subject,
		CookieKey:  d.CookieKey,
		Secure:     strings.HasPrefix(cfg.Issuer, "https://"),
		SessionTTL: cfg.Session.TTL,
		IdleTTL:    cfg.Session.IdleTTL,
		Brand: loginui.Brand{
			Name:         cfg.Brand.Name,
			LogoURL:      cfg.Brand.LogoURL,
			PrimaryColor: cfg.Brand.PrimaryColor,
			SupportURL:   cfg.Brand.SupportURL,
			PrivacyURL:   cfg.Brand.PrivacyURL,
			TermsURL:     cfg.Brand.TermsURL,
		},
		Languages:    cfg.UI.Languages,
		ThemeDir:     cfg.Brand.ThemeDir,
		StepUpMaxAge: cfg.OTP.StepUpMaxAge,
		Features:     features,
		Metrics:      s.metrics.Members(),
		Logger:       d.Log,
		// Credential changes end every other session (member.Service).
		KeepSessionOnCredentialChange: cfg.Session.KeepCurrentOnCredentialChange,
		Logouts:                       d.Logouts, // back-channel logout (wire_backchannel.go)
	})
	if err != nil {
		return nil, err
	}
	s.ui = ui
	logout.ui, partner.ui = ui, ui
	if s.admin, err = s.adminHTTP(ctx); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// routes: the login UI's pages, the guarded callback, operational
// endpoints, and everything else to the OpenID provider.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	ui := s.ui.Handler()
	for _, p := range []string{"/login", "/login/", "/logged-out", "/static/", "/theme.css", "/account", "/account/",
		loginui.DevicePath, loginui.DevicePath + "/"} {
		mux.Handle(p, ui)
	}
	mux.Handle(loginui.LogoutPath, ui)
	op := s.provider.Handler()
	mux.Handle("/end_session", s.ui.LangSwitch(op))
	mux.Handle("/authorize/callback", s.ui.GuardCallback(friendlyAuthorizeErrors(op, s.ui)))
	mux.Handle("/authorize", s.ui.LangSwitch(s.ui.SSO(friendlyAuthorizeErrors(op, s.ui))))
	if s.deps.Config.Telephone.Enabled {
		mux.Handle("POST /api/telephone/verify", member.NewTelephoneAPI(s.deps.Members, s.telephoneToken, s.deps.Log))
	}
	if s.wellKnown != nil {
		for _, p := range []string{passkey.PathAppleAppSiteAssociation, passkey.PathAssetLinks, passkey.PathWebAuthn} {
			mux.Handle(p, s.wellKnown)
		}
	}
	if s.admin != nil {
		mux.Handle(adminPrefix, s.admin)
		mux.Handle(ssf.Path, ssfConfiguration(s.deps.Config.Issuer, s.provider))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.ready)
	if s.deps.Config.Dev {
		mux.Handle("/demo/", demo.New(s.deps.Config.Issuer, demoClientID, demoClientSecret(s.deps)))
		mux.HandleFunc("GET /dev/outbox", s.msg.devOutbox)
	}
	mux.Handle("/", op)
	var h http.Handler = mux
	h = s.metrics.Instrument(h)
	h = limitBodies(h, 1<<20, s.admin != nil)
	if strings.HasPrefix(s.deps.Config.Issuer, "https://") {
		h = withHSTS(h)
	}
	// Before anything reads an address: one derivation per request.
	h = s.addrs.Handler(h)
	return withRequestID(h)
}

// withHSTS sends Strict-Transport-Security on every answer of an https
// issuer, not only on the hosted pages: a member's first request may be a
// relying party's redirect to /authorize, and its answer must already pin
// https for the pages that follow.
func withHSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}

// hstsValue is two years, sub-domains included, as the login UI sends it.
const hstsValue = "max-age=63072000; includeSubDomains"

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	if err := storeReady(r.Context(), s.deps.Store); err != nil {
		s.deps.Log.WarnContext(r.Context(), "not ready: the database does not answer", "err", err)
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// telephoneToken checks a telephone API request's token, Bearer or DPoP:
// the provider owns tokens, the member package the PIN check, and this
// maps one's answer to the other's terms.
func (s *server) telephoneToken(r *http.Request) (member.TelephoneCaller, error) {
	tok, rerr := s.provider.ResourceToken(r, s.provider.ResourceURL(r.URL.Path), "")
	if rerr == nil {
		tok, err := s.provider.ServiceTokenOf(r.Context(), tok, provider.ScopeTelephone)
		caller := member.TelephoneCaller{ClientID: tok.ClientID, MemberID: tok.MemberID}
		switch {
		case errors.Is(err, provider.ErrMemberToken):
			return caller, member.ErrTokenForMember
		case errors.Is(err, provider.ErrInsufficientScope):
			return caller, member.ErrTokenScope
		}
		return caller, err
	}
	refusal := &member.TokenRefusal{Status: rerr.Status, Code: rerr.Code, Description: rerr.Description, Header: http.Header{}}
	rerr.SetHeaders(refusal.Header)
	if refusal.Code == "" || refusal.Code == "invalid_request" && rerr.Status == http.StatusUnauthorized {
		refusal.Code = "invalid_token"
		refusal.Description = "an access token (Bearer, or DPoP with its proof) with the telephone scope is required"
	}
	return member.TelephoneCaller{}, refusal
}

// friendlyAuthorizeErrors replaces the provider's plain-text answers to
// a browser at /authorize and its callback with the login UI's error
// page: op's 400 to a request it must not redirect (unknown client, bad
// redirect_uri), and the provider's 503 when storage cannot read the
// request or its client (its Retry-After stays). The redirect URI is
// shown nowhere and never followed.
func friendlyAuthorizeErrors(next http.Handler, ui *loginui.UI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &captureWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		// Only the redirect URI is shown: op's own text may carry internals.
		switch cw.captured {
		case http.StatusBadRequest:
			ui.RenderError(w, r, http.StatusBadRequest, "error.client", redirectDetail(r))
		case http.StatusServiceUnavailable:
			ui.RenderError(w, r, http.StatusServiceUnavailable, "error.server", "")
		}
	})
}

// captureWriter swallows a plain-text 400 or 503 so it can be replaced.
type captureWriter struct {
	http.ResponseWriter
	captured int // the status swallowed, or 0
	decided  bool
}

func (w *captureWriter) WriteHeader(code int) {
	if !w.decided {
		w.decided = true
		if (code == http.StatusBadRequest || code == http.StatusServiceUnavailable) &&
			strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			w.captured = code
			w.Header().Del("Content-Type")
			w.Header().Del("X-Content-Type-Options")
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.captured != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func redirectDetail(r *http.Request) string {
	if v := r.FormValue("redirect_uri"); v != "" {
		return "redirect_uri: " + v
	}
	return ""
}

// features are the login UI's optional parts, each wired in its own file.
func (s *server) features() ([]loginui.Feature, error) {
	var out []loginui.Feature
	// Each wire function lives in wire_<feature>.go and returns nil while
	// its feature is switched off by config.
	for _, wire := range []func() (loginui.Feature, error){
		s.wireRisk,
		s.wireOTP,
		s.wireContactChecks, // wire_contacts.go
		s.wirePasskeys,
		s.wireConsent,
		s.wireDevice, // wire_device.go
	} {
		f, err := wire()
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, f)
		}
	}
	return out, nil
}
