package app

import (
	"net/http"
	"time"

	"tsubasa/config"
	loginui "tsubasa/login-ui"
	"tsubasa/provider/outbound"
)

// partnerPages carries what partner-grade OAuth shows a member to the
// login UI: a pushed request's request_uri that /authorize cannot use
// (unknown, expired, used, or another client's) is "this login request has
// expired, start again from the app", never a redirect. Like logoutPages,
// ui is set once the UI exists, before the server serves.
type partnerPages struct{ ui *loginui.UI }

func (p *partnerPages) requestURIRefused(w http.ResponseWriter, r *http.Request) {
	p.ui.RenderError(w, r, http.StatusBadRequest, "error.request_expired", "")
}

// dpopNonceTTL is how long DPoP nonces live, 0 when none are required.
func dpopNonceTTL(cfg config.Config) time.Duration {
	if !cfg.DPoP.RequireNonce {
		return 0
	}
	return cfg.DPoP.NonceTTL
}

// outboundClient is the HTTP client for addresses clients register
// (jwks_uri), with config's limits.
func outboundClient(cfg config.Config) *outbound.Client {
	return outbound.New(outbound.Options{
		Timeout:              cfg.Outbound.Timeout,
		MaxBytes:             int64(cfg.Outbound.MaxResponseBytes),
		AllowPrivateNetworks: cfg.Outbound.AllowPrivateNetworks,
	})
}
